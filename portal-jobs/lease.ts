import { toError } from '../shared/errors';
import { insertLeaseIfAbsent, releaseLease, renewLease, takeExpiredLease } from '../shared/metadata/jobs';
import type { JobsContext } from './context';

/** A job's lease while this instance holds it. */
export interface HeldLease {
  /** Aborted when the lease was taken over or could not be renewed in time. */
  readonly signal: AbortSignal;
  /** Stops renewing and lets the lease go (expires now). Never throws: a lost release just expires. */
  release(): Promise<void>;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * Takes the job's lease in job_lease if it is free (never taken, released, or expired by the
 * metadata DB's clock); undefined when another instance holds it. Each statement is atomic on the
 * lease row, so of several instances trying at once exactly one gets it.
 */
export async function acquireLease(ctx: JobsContext, job: string): Promise<HeldLease | undefined> {
  const leaseMs = ctx.config.jobLeaseMs;
  const askedAt = Date.now();
  const got =
    (await insertLeaseIfAbsent(ctx.db, job, ctx.holder, leaseMs)) || (await takeExpiredLease(ctx.db, job, ctx.holder, leaseMs));
  return got ? new RenewedLease(ctx, job, askedAt + leaseMs) : undefined;
}

/**
 * Renews every third of jobLeaseMs while the job runs. The local deadline counts from when each
 * renewal was *sent*, so it is never later than the expiry the database recorded. If renewals keep
 * failing (the metadata DB is unreachable), the run is aborted before the deadline, while no other
 * instance can have taken the lease yet; if a renewal finds another holder, it is aborted at once.
 */
class RenewedLease implements HeldLease {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly ctx: JobsContext,
    private readonly job: string,
    private deadline: number,
  ) {
    this.schedule();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private get interval(): number {
    return Math.max(50, Math.floor(this.ctx.config.jobLeaseMs / 3));
  }

  private schedule(): void {
    if (this.released || this.controller.signal.aborted) return;
    this.timer = setTimeout(() => void this.renew(), this.interval);
    // The run itself keeps the process alive; a pending renewal alone must not.
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const sentAt = Date.now();
    try {
      const still = await renewLease(this.ctx.db, this.job, this.ctx.holder, this.ctx.config.jobLeaseMs);
      if (this.released) return;
      if (!still) {
        this.lose('the lease was taken over by another instance');
        return;
      }
      this.deadline = sentAt + this.ctx.config.jobLeaseMs;
    } catch (err) {
      if (this.released) return;
      this.ctx.logger.warn('could not renew a job lease', { job: this.job, err: toError(err).message });
      // The next attempt would come too late to be sure nobody else took over: stop now.
      if (Date.now() + this.interval >= this.deadline) {
        this.lose('the lease could not be renewed before it expired');
        return;
      }
    }
    this.schedule();
  }

  private lose(why: string): void {
    this.ctx.logger.warn('lost a job lease; the run stops at its next step', { job: this.job, why });
    this.controller.abort(new LeaseLostError(`${this.job}: ${why}`));
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.timer);
    if (this.controller.signal.aborted) return; // not ours any more
    try {
      await releaseLease(this.ctx.db, this.job, this.ctx.holder);
    } catch (err) {
      this.ctx.logger.warn('could not release a job lease; it will expire by itself', { job: this.job, err: toError(err).message });
    }
  }
}
