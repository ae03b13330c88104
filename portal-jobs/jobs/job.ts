import type { Config } from '../../shared/config';
import type { JobName } from '../../shared/jobs/names';
import type { Logger } from '../../shared/logger';
import type { JobsContext } from '../context';

/** Counters a run reports in job_run.detail and its log line; a job adds its own names. */
export type JobCounts = Record<string, number>;

/** One run of a job, as the job's code sees it. */
export interface JobRun {
  /** A child logger carrying job, runId and holder. */
  logger: Logger;
  /**
   * Aborted when the lease could not be renewed (another instance may take over) or the process is
   * stopping. Jobs check it between bounded steps and stop there.
   */
  signal: AbortSignal;
  /** Filled in as the job goes, so a failed run still records what it did. */
  counts: JobCounts;
}

type BooleanKey = { [K in keyof Config]: Config[K] extends boolean ? K : never }[keyof Config];
type StringKey = { [K in keyof Config]: Config[K] extends string ? K : never }[keyof Config];

export interface JobDefinition {
  name: JobName;
  /** The config keys that schedule it (named in start-up errors). */
  enabledKey: BooleanKey;
  cronKey: StringKey;
  /** Does the work; throws when the run failed (counts so far are kept). */
  run(ctx: JobsContext, run: JobRun): Promise<void>;
  /**
   * Whether a successful run did anything. A run that did nothing logs its end at debug instead of
   * info, and a scheduled one is counted on job_lease (idle_runs) instead of written to job_run:
   * a job that runs every few seconds would otherwise fill both with nothing (its tick is then
   * claimed on job_lease.last_slot). Without it every run counts as having done something.
   */
  didWork?(counts: JobCounts): boolean;
}

/** Throws the abort reason (lease lost, or stopping) at a safe point between steps. */
export function checkpoint(run: JobRun): void {
  run.signal.throwIfAborted();
}

/** A pause that ends early when the run is aborted. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Starts a run's counters at `initial` and returns them typed: the same object job_run records. */
export function startCounts<T extends JobCounts>(run: JobRun, initial: T): T {
  Object.assign(run.counts, initial);
  return run.counts as T;
}
