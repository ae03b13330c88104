import type { Command } from 'commander';
import { action, positiveInt } from '../context';
import { UsageError } from '../exit-codes';
import { print, table } from '../output';

interface Job {
  name: string;
  lease: { holder: string; held: boolean; expiresAt: string | null } | null;
  lastRuns: { id: number; status: string; startedAt: string | null; durationMs: number | null; error: string | null }[];
}

const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];

export function jobsCommand(program: Command): void {
  program
    .command('jobs')
    .description('portal-jobs jobs: lease and last run of each')
    .option('--runs <n>', 'recent runs to fetch per job (1-100)', positiveInt)
    .action(
      action<{ runs?: number }>(async ({ api, output }, _args, o) => {
        const { jobs } = await api.get<{ jobs: Job[] }>(`/api/v1/admin/jobs${o.runs ? `?runs=${o.runs}` : ''}`);
        print(output, jobs, (list) =>
          table(list, [
            ['JOB', (j) => j.name],
            ['LEASE_HELD_BY', (j) => (j.lease?.held ? j.lease.holder : null)],
            ['LAST_STATUS', (j) => j.lastRuns[0]?.status],
            ['LAST_STARTED', (j) => j.lastRuns[0]?.startedAt],
            ['LAST_MS', (j) => j.lastRuns[0]?.durationMs],
            ['LAST_ERROR', (j) => j.lastRuns[0]?.error],
          ]),
        );
      }),
    );

  program
    .command('log-level [level]')
    .description("show or change the answering broker's log level")
    .option('--duration-ms <ms>', 'go back to the previous level after this long', positiveInt)
    .action(
      action<{ durationMs?: number }>(async ({ api, output }, [level], o) => {
        if (level !== undefined && !LEVELS.includes(level)) throw new UsageError(`level must be one of ${LEVELS.join(', ')}`);
        const state =
          level === undefined
            ? await api.get<{ level: string; revertsTo: string | null; revertsAt: string | null }>('/api/v1/admin/log-level')
            : await api.put<{ level: string; revertsTo: string | null; revertsAt: string | null }>('/api/v1/admin/log-level', { level, durationMs: o.durationMs });
        print(output, state, (s) => `log level: ${s.level}${s.revertsTo ? ` (back to ${s.revertsTo} at ${s.revertsAt})` : ''}\n`);
      }),
    );
}
