import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../shared/config';
import { prepareMetadata } from '../shared/db/prepare-metadata';
import type { JobName } from '../shared/jobs/names';
import type { Logger } from '../shared/logger';
import { NodePools } from '../shared/messages/node-pools';
import { SecretBox } from '../shared/secrets/secret-box';
import type { JobsContext } from './context';
import { JOBS } from './jobs';
import { runJob, type RunOutcome } from './run-job';
import { JobScheduler } from './scheduler';
import { JobsMetrics } from './metrics';
import { startJobsHttp, type JobsHttp } from './http';

export interface PortalJobs {
  ctx: JobsContext;
  scheduler: JobScheduler;
  /** Runs one job once, now (the operator's `run <job>`), under its lease. */
  runOnce(job: JobName): Promise<RunOutcome>;
  /** Tells running jobs (scheduled or runOnce) to stop at their next step; they record that. */
  interrupt(): void;
  /** Serves /healthz and /metrics on `jobsPort`; answers the port bound. */
  startHttp(): Promise<number>;
  /** Interrupts, stops the scheduler, waits for running jobs, closes the HTTP server and the pools. */
  stop(): Promise<void>;
}

/** Unique per process and per instance within one (tests run two in one process). */
function holderName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Wires portal-jobs: the metadata DB (created and migrated like the broker does), one pool per
 * message DB node, and the scheduler over every job. Nothing runs until scheduler.start() or runOnce().
 */
export async function createPortalJobs(config: Config, logger: Logger): Promise<PortalJobs> {
  const db = await prepareMetadata(config, logger);
  // Jobs work one queue at a time, so a few connections per node suffice. Their statements are
  // bounded by the batch size, not by the produce path's short statement timeout.
  const nodes = new NodePools({ poolSize: Math.min(config.nodePoolSize, 4), statementTimeoutMs: config.cleanupStatementTimeoutMs, logger, secrets: SecretBox.fromConfig(config) });
  const ctx: JobsContext = { config, logger, db, nodes, holder: holderName(), metrics: new JobsMetrics(Object.keys(JOBS)) };
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort(new Error('portal-jobs is stopping'));
  const scheduler = new JobScheduler(ctx, Object.values(JOBS), interrupted.signal);

  let http: JobsHttp | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      interrupt();
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      await Promise.race([scheduler.stop(), timeout]);
      await http?.close();
      await nodes.closeAll();
      await db.destroy();
    })());

  const startHttp = async () => {
    http ??= await startJobsHttp(ctx);
    return http.port;
  };

  return { ctx, scheduler, startHttp, runOnce: (job) => runJob(ctx, JOBS[job], { kind: 'manual' }, interrupted.signal), interrupt, stop };
}
