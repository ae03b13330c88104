import { BrokerError } from '../../../shared/errors';

/**
 * Bytes accepted but not yet committed, across all nodes of this broker. When MySQL is slower
 * than the producers, new requests get 503 + Retry-After instead of piling up in memory.
 */
export class PendingBudget {
  private used = 0;

  constructor(private readonly limit: number) {}

  take(bytes: number): void {
    if (this.used > 0 && this.used + bytes > this.limit) {
      throw new BrokerError('OVERLOADED', 'the broker is writing as fast as the database allows; retry shortly', { pendingBytes: this.used }, { retryAfterSeconds: 1 });
    }
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  get pendingBytes(): number {
    return this.used;
  }
}
