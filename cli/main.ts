#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './program';
import { describeError, EXIT, exitCodeOf } from './exit-codes';

// `tablemq topics list | head`: a reader that goes away early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

/** `tablemq`: see program.ts for the commands and exit-codes.ts for what the exit status means. */
async function main(): Promise<number> {
  try {
    await buildProgram().parseAsync(process.argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed its message (or the help) already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`tablemq: ${describeError(err)}\n`);
    return exitCodeOf(err);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tablemq: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
