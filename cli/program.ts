import { Command, Option } from 'commander';
import { appsCommand } from './commands/apps';
import { groupsCommand } from './commands/groups';
import { jobsCommand } from './commands/jobs';
import { messagesCommand } from './commands/messages';
import { nodesCommand } from './commands/nodes';
import { produceCommand } from './commands/produce';
import { tailCommand } from './commands/tail';
import { topicsCommand } from './commands/topics';

export const DEFAULT_BROKER = 'http://localhost:8080';

/** The `tablemq` command line: every command, with the options they share. */
export function buildProgram(): Command {
  const program = new Command('tablemq')
    .description('Operate a tablemq installation: topics, groups, db nodes, dead messages, produce and tail')
    // Errors and --help come back to main() as exceptions, which picks the exit status.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addOption(
      new Option('-b, --broker <urls>', 'broker base URL; several, comma-separated, for failover')
        .env('TABLEMQ_BROKER')
        .default([DEFAULT_BROKER], DEFAULT_BROKER)
        .argParser((value: string) => value.split(',').map((url) => url.trim()).filter(Boolean)),
    )
    .addOption(new Option('--token <token>', 'API token, sent as Authorization: Bearer').env('TABLEMQ_TOKEN'))
    .option('--json', 'print JSON (for scripts) instead of tables', false)
    .addHelpText(
      'after',
      `
Exit status: 0 done, 1 the broker refused the request, 2 bad usage, 3 not found, 4 no broker available.
Environment: TABLEMQ_BROKER (comma-separated URLs), TABLEMQ_TOKEN.`,
    );
  topicsCommand(program);
  groupsCommand(program);
  nodesCommand(program);
  messagesCommand(program);
  produceCommand(program);
  tailCommand(program);
  jobsCommand(program);
  appsCommand(program);
  return program;
}
