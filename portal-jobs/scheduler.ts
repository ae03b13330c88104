import { createTask, type ScheduledTask } from 'node-cron';
import { toError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { JobsContext } from './context';
import type { JobDefinition } from './jobs/job';
import { runJob, type RunOutcome } from './run-job';

/** node-cron's own messages (missed ticks, overlaps) go into our structured log. */
function cronLogger(logger: Logger) {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m);
  return {
    info: (m: string) => logger.info(m, { component: 'node-cron' }),
    warn: (m: string) => logger.warn(m, { component: 'node-cron' }),
    error: (m: string | Error, err?: Error) => logger.error(text(m), { component: 'node-cron', err: err?.message }),
    debug: (m: string | Error, err?: Error) => logger.debug(text(m), { component: 'node-cron', err: err?.message }),
  };
}

/**
 * Fires each enabled job on its cron expression. Every instance runs the same schedule; runJob's
 * lease and per-tick run row decide which instance actually runs each tick. Within one instance a
 * job never overlaps itself: a tick that comes while the previous run is still going is skipped.
 */
export class JobScheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly ctx: JobsContext,
    private readonly jobs: readonly JobDefinition[],
    /** Aborted when the process stops: running jobs stop at their next step. */
    private readonly stopping: AbortSignal,
  ) {}

  /** The jobs that are enabled, with their cron expressions (for the start-up log). */
  get schedule(): { job: string; cron: string }[] {
    return this.jobs.filter((j) => this.ctx.config[j.enabledKey]).map((j) => ({ job: j.name, cron: this.ctx.config[j.cronKey] }));
  }

  start(): void {
    for (const job of this.jobs) {
      if (!this.ctx.config[job.enabledKey]) continue;
      const task = createTask(this.ctx.config[job.cronKey], (c) => this.tick(job, c.date), {
        name: `tablemq:${job.name}`,
        noOverlap: true,
        logger: cronLogger(this.ctx.logger),
      });
      void task.start();
      this.tasks.push(task);
    }
  }

  /** Runs one tick of a job; resolves when it is done (node-cron uses that for noOverlap). */
  tick(job: JobDefinition, slot: Date): Promise<void> {
    if (this.stopped || this.stopping.aborted) return Promise.resolve();
    const previous = this.running.get(job.name);
    if (previous) {
      this.ctx.logger.warn('job still running from an earlier tick; this tick is skipped', { job: job.name, slot: slot.toISOString() });
      return previous;
    }
    const run = runJob(this.ctx, job, { kind: 'schedule', slot }, this.stopping)
      .then((outcome) => this.report(job, slot, outcome))
      .catch((err: unknown) => {
        this.ctx.logger.error('job run could not be recorded', { job: job.name, slot: slot.toISOString(), err: toError(err).message });
      })
      .finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    return run;
  }

  private report(job: JobDefinition, slot: Date, outcome: RunOutcome): void {
    // Several instances see every tick; that only one runs it is the normal case, hence debug.
    if (outcome.kind === 'lease-held') {
      this.ctx.logger.debug('job runs on another instance', { job: job.name, slot: slot.toISOString(), holder: outcome.holder });
    } else if (outcome.kind === 'already-ran') {
      this.ctx.logger.debug('tick already ran on another instance', { job: job.name, slot: slot.toISOString() });
    }
  }

  /** Stops firing and waits for running jobs (interrupt them first to make that quick). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const task of this.tasks) await task.destroy();
    this.tasks.length = 0;
    await Promise.all(this.running.values());
  }
}
