import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startLocalServerIfNeeded, type LocalServer } from './local-mysql';

/**
 * `npm start`: the quick start runs the broker and portal-jobs side by side from one command.
 * Production runs `node dist/broker/main.js` and `node dist/portal-jobs/main.js` as separate
 * services (docker-compose.yml does), so this file is deliberately tiny: start both, forward
 * SIGTERM/SIGINT, and when either exits, stop the other and exit with the first one's code.
 * On a machine with MySQL/MariaDB installed but not running (and no TABLEMQ_MYSQL_URL), it first
 * starts a private server with its data in .tablemq/ and stops it last (local-mysql.ts).
 *
 * The entry points are found beside this file with its own extension, so the same code runs from
 * dist/ (.js) and under tsx (.ts, which the tests use); the children inherit node's flags.
 */
const ext = path.extname(__filename);
const ENTRIES = {
  broker: path.join(__dirname, '..', 'broker', `main${ext}`),
  'portal-jobs': path.join(__dirname, '..', 'portal-jobs', `main${ext}`),
};

const children = new Map<string, ChildProcess>();
let exitCode: number | undefined;
let stopRequested = false;

function stopAll(): void {
  // SIGTERM for both signals: a terminal's Ctrl-C also reaches the children as SIGINT, and
  // each process acts on the first of the two only.
  for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    exitCode ??= 0;
    stopRequested = true;
    stopAll();
  });
}

async function main(): Promise<void> {
  const say = (text: string) => process.stderr.write(`tablemq: ${text}\n`);
  let local: LocalServer | undefined;
  try {
    local = await startLocalServerIfNeeded(process.env, { dir: '.tablemq', say });
  } catch (err) {
    say(`could not start a private database server: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (stopRequested) {
    await local?.stop();
    process.exit(exitCode ?? 0);
  }
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const child = spawn(process.execPath, [...process.execArgv, entry], { stdio: 'inherit', env: process.env });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (exitCode === undefined) {
        exitCode = code ?? (signal ? 1 : 0);
        process.stderr.write(`tablemq: ${name} exited (${signal ?? `code ${code}`}); stopping the rest\n`);
        stopAll();
      }
      if (children.size === 0) {
        // The database goes last: the broker and portal-jobs flush and release their leases first.
        void (local?.stop() ?? Promise.resolve()).finally(() => process.exit(exitCode));
      }
    });
  }
}

void main();
