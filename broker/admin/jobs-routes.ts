import { Router } from 'express';
import { JOB_NAMES } from '../../shared/jobs/names';
import { jobsWithRuns, listLeases, recentJobRuns, type JobLease, type JobRunRow } from '../../shared/metadata/jobs';
import type { BrokerContext } from '../context';
import { validator } from '../http/validation';

const DEFAULT_RUNS = 10;

const checkQuery = validator<{ runs?: string }>(
  {
    type: 'object',
    properties: { runs: { type: 'string', pattern: '^(100|[1-9][0-9]?)$' } },
    additionalProperties: false,
  },
  'query string (runs: 1..100)',
);

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
export function jobsRoutes(ctx: BrokerContext): Router {
  const r = Router();
  r.get('/jobs', async (req, res) => {
    const query = checkQuery({ ...req.query });
    const limit = query.runs === undefined ? DEFAULT_RUNS : Number(query.runs);
    const leases = new Map((await listLeases(ctx.db)).map((l) => [l.job, l]));
    // Known jobs first, even before their first run; then any other name found in the tables.
    const names = [...new Set<string>([...JOB_NAMES, ...leases.keys(), ...(await jobsWithRuns(ctx.db))])];
    const jobs = await Promise.all(
      names.map(async (name) => ({
        name,
        lease: describeLease(leases.get(name)),
        lastRuns: (await recentJobRuns(ctx.db, name, limit)).map(describeRun),
      })),
    );
    res.json({ jobs });
  });
  return r;
}
