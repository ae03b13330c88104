import { JOB_NAMES } from '../../shared/jobs/names';
import { jobsWithRuns, listLeases, recentJobRuns, type JobLease, type JobRunRow } from '../../shared/metadata/jobs';
import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';

const DEFAULT_RUNS = 10;

const jobsQuerySchema = {
  type: 'object',
  properties: { runs: { type: 'integer', minimum: 1, maximum: 100, description: 'How many recent runs of each job (default 10)' } },
  additionalProperties: false,
} as const;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function describeLease(lease: JobLease | undefined) {
  if (!lease) return null;
  return { holder: lease.holder, held: lease.held, acquiredAt: iso(lease.acquiredAt), expiresAt: iso(lease.expiresAt) };
}

function describeRun(run: JobRunRow) {
  const detail = (typeof run.detail === 'object' && run.detail !== null ? run.detail : {}) as { counts?: unknown; error?: unknown };
  return {
    id: run.id,
    status: run.status,
    holder: run.holder,
    triggeredBy: run.triggeredBy,
    scheduledFor: iso(run.scheduledFor),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.durationMs,
    counts: detail.counts ?? null,
    error: typeof detail.error === 'string' ? detail.error : null,
  };
}

/**
 * GET /api/v1/admin/jobs[?runs=N]: each portal-jobs job with its lease (the current holder when
 * `held`) and its last N runs from job_run, newest first.
 */
export function jobsRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route<undefined, { runs?: number }>({
      method: 'get',
      path: '/api/v1/admin/jobs',
      tag: 'jobs',
      summary: 'Each portal-jobs job with its lease and its last runs, newest first',
      query: jobsQuerySchema,
      handler: async (_req, res, { query }) => {
        const limit = query.runs ?? DEFAULT_RUNS;
        const leases = new Map((await listLeases(ctx.db)).map((l) => [l.job, l]));
        // Known jobs first, even before their first run; then any other name found in the tables.
        const names = [...new Set<string>([...JOB_NAMES, ...leases.keys(), ...(await jobsWithRuns(ctx.db))])];
        const jobs = await Promise.all(
          names.map(async (name) => ({
            name,
            lease: describeLease(leases.get(name)),
            // Scheduled runs that found nothing to do are counted, not listed in lastRuns.
            idleRuns: leases.get(name)?.idleRuns ?? 0,
            lastIdleRunAt: iso(leases.get(name)?.lastIdleRunAt ?? null),
            lastRuns: (await recentJobRuns(ctx.db, name, limit)).map(describeRun),
          })),
        );
        res.json({ jobs });
      },
    }),
  ];
}
