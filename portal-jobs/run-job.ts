import { toError } from '../shared/errors';
import { claimTick, countIdleRun, failAbandonedRuns, findLease, finishJobRun, insertFinishedJobRun, insertJobRun } from '../shared/metadata/jobs';
import type { JobsContext } from './context';
import type { JobCounts, JobDefinition } from './jobs/job';
import { acquireLease } from './lease';

/** Why a run starts: a cron tick (the slot node-cron fired for) or an operator's `run <job>`. */
export type RunTrigger = { kind: 'schedule'; slot: Date } | { kind: 'manual' };

export type RunOutcome =
  /** Another instance holds the job's lease: it runs (or just ran) there. */
  | { kind: 'lease-held'; holder: string | null; until: Date | null }
  /** This tick already has a run (another instance finished it before this one got the lease). */
  | { kind: 'already-ran' }
  /** runId is null for a scheduled run that did nothing and was only counted (see runJob). */
  | { kind: 'finished'; runId: number | null; status: 'succeeded' | 'failed'; counts: JobCounts; durationMs: number; error?: string };

/**
 * One run of a job: take the lease, open the job_run row (once per cron tick across all instances),
 * run with the lease renewed, record the outcome, release the lease.
 *
 * Two guards, because each alone leaves a gap: the lease makes runs of a job exclusive in time
 * (and hands a dead holder's job over once its lease expires); the unique (job, scheduled_for) key
 * of job_run makes a tick run once even when a second instance processes the same tick late, after
 * the first one already finished and released the lease.
 */
export async function runJob(ctx: JobsContext, job: JobDefinition, trigger: RunTrigger, stopping?: AbortSignal): Promise<RunOutcome> {
  const outcome = await runUnderLease(ctx, job, trigger, stopping);
  const { metrics } = ctx;
  if (outcome.kind === 'finished') {
    metrics.runs.inc({ job: job.name, outcome: outcome.status });
    metrics.runSeconds.observe({ job: job.name, status: outcome.status }, outcome.durationMs / 1000);
    if (outcome.status === 'succeeded') metrics.lastSuccess.set({ job: job.name }, Date.now() / 1000);
  } else {
    metrics.runs.inc({ job: job.name, outcome: outcome.kind === 'lease-held' ? 'lease_held' : 'already_ran' });
  }
  return outcome;
}

async function runUnderLease(ctx: JobsContext, job: JobDefinition, trigger: RunTrigger, stopping?: AbortSignal): Promise<RunOutcome> {
  const lease = await acquireLease(ctx, job.name);
  if (!lease) {
    const current = await findLease(ctx.db, job.name).catch(() => undefined);
    return { kind: 'lease-held', holder: current?.holder ?? null, until: current?.expiresAt ?? null };
  }
  ctx.metrics.leaseHeld.set({ job: job.name }, 1);
  try {
    const abandoned = await failAbandonedRuns(ctx.db, job.name, ctx.holder, {
      counts: {},
      error: 'abandoned: its holder stopped renewing the lease (died or stalled) before the run finished',
    });
    if (abandoned > 0) ctx.logger.warn('marked runs of a lost lease holder as failed', { job: job.name, runs: abandoned });

    const scheduledFor = trigger.kind === 'schedule' ? trigger.slot : null;
    const row = { job: job.name, holder: ctx.holder, triggeredBy: trigger.kind === 'schedule' ? ('schedule' as const) : ('manual' as const), scheduledFor };
    // A frequent job (one that can tell whether a run did anything) writes a scheduled run only
    // once it did something or failed: a row every 10 s that says "nothing" is noise. Its tick is
    // claimed on the lease row instead of by the job_run row's unique key.
    const recordsAfterwards = trigger.kind === 'schedule' && job.didWork !== undefined;
    let runId: number | null = null;
    if (recordsAfterwards) {
      if (!(await claimTick(ctx.db, job.name, ctx.holder, trigger.slot))) return { kind: 'already-ran' };
    } else {
      const opened = await insertJobRun(ctx.db, row);
      if (opened === undefined) return { kind: 'already-ran' };
      runId = opened;
    }

    const logger = ctx.logger.child({ job: job.name, ...(runId === null ? {} : { runId }), holder: ctx.holder });
    const counts: JobCounts = {};
    const signal = stopping ? AbortSignal.any([lease.signal, stopping]) : lease.signal;
    const started = Date.now();
    logger.debug('job run started', { trigger: trigger.kind, scheduledFor: scheduledFor?.toISOString() ?? null });
    let error: Error | undefined;
    try {
      await job.run(ctx, { logger, signal, counts });
    } catch (err) {
      error = toError(err);
    }
    const durationMs = Date.now() - started;
    const status = error ? 'failed' : 'succeeded';
    const detail = error ? { counts, error: error.message } : { counts };
    const didWork = job.didWork?.(counts) ?? true;
    if (runId !== null) await finishJobRun(ctx.db, runId, status, detail);
    else if (error || didWork) runId = (await insertFinishedJobRun(ctx.db, row, status, detail, durationMs)) ?? null;
    else await countIdleRun(ctx.db, job.name);
    if (error) logger.error('job run failed', { durationMs, counts, err: error.message, runId });
    else if (didWork) logger.info('job run succeeded', { durationMs, counts, runId });
    else logger.debug('job run succeeded', { durationMs, counts, runId });
    return { kind: 'finished', runId, status, counts, durationMs, ...(error ? { error: error.message } : {}) };
  } finally {
    await lease.release();
    ctx.metrics.leaseHeld.set({ job: job.name }, 0);
  }
}
