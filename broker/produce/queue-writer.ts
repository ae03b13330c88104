import type { NewMessage } from '../../shared/messages/message-store';
import { BrokerError } from '../../shared/errors';

/** Inserts one batch into one queue and returns the first id (consecutive ids follow). */
export type BatchInsert = (messages: readonly NewMessage[]) => Promise<number>;

interface Pending {
  messages: readonly NewMessage[];
  bytes: number;
  resolve: (ids: number[]) => void;
  reject: (err: unknown) => void;
}

export interface WriterLimits {
  maxRows: number;
  maxBytes: number;
  /** Concurrent INSERTs per queue: one more lets a lone request start while a batch commits. */
  maxInFlight: number;
}

/**
 * Group commit for one queue (DESIGN.md section 6). Requests that arrive while an INSERT is in
 * flight wait in `pending` and go out together in the next multi-row INSERT, so many requests share
 * one commit (one fsync). A request is answered with its own ids only after its INSERT returned.
 * A lone request waits one event-loop turn at most. A request's messages are never split across
 * INSERTs unless they alone exceed the batch bounds.
 */
export class QueueWriter {
  private pending: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly insert: BatchInsert,
    private readonly limits: WriterLimits,
    private readonly idStep: number,
    private readonly budget: PendingBudget,
    private readonly onCommitted: (lastId: number) => void,
  ) {}

  append(messages: readonly NewMessage[]): Promise<number[]> {
    const bytes = messages.reduce((sum, m) => sum + m.body.length + (m.headers?.length ?? 0) + 64, 0);
    this.budget.take(bytes); // throws OVERLOADED when the broker already holds too much
    return new Promise<number[]>((resolve, reject) => {
      this.pending.push({ messages, bytes, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.limits.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    // setImmediate, not a timer: requests parsed in this same turn join the batch, and a lone
    // request is delayed by one turn of the event loop only.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    let bytes = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      const fits = rows + next.messages.length <= this.limits.maxRows && bytes + next.bytes <= this.limits.maxBytes;
      if (batch.length > 0 && !fits) break;
      batch.push(this.pending.shift()!);
      rows += next.messages.length;
      bytes += next.bytes;
    }
    return batch;
  }

  private flush(): void {
    while (this.inFlight < this.limits.maxInFlight && this.pending.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        for (const p of batch) this.budget.give(p.bytes);
        this.schedule();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const oversized = batch.length === 1 && batch[0]!.messages.length > this.limits.maxRows;
    try {
      if (oversized) {
        // One request bigger than a batch: write it in chunks, each its own INSERT.
        const only = batch[0]!;
        const ids: number[] = [];
        for (let i = 0; i < only.messages.length; i += this.limits.maxRows) {
          const chunk = only.messages.slice(i, i + this.limits.maxRows);
          ids.push(...this.idsFrom(await this.insert(chunk), chunk.length));
        }
        this.onCommitted(ids[ids.length - 1]!);
        only.resolve(ids);
        return;
      }
      const all = batch.flatMap((p) => p.messages);
      const firstId = await this.insert(all);
      let offset = 0;
      for (const p of batch) {
        p.resolve(this.idsFrom(firstId + offset * this.idStep, p.messages.length));
        offset += p.messages.length;
      }
      this.onCommitted(firstId + (all.length - 1) * this.idStep);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private idsFrom(firstId: number, count: number): number[] {
    const ids = new Array<number>(count);
    for (let i = 0; i < count; i++) ids[i] = firstId + i * this.idStep;
    return ids;
  }
}

/**
 * Bytes accepted but not yet committed, across all queues of this broker. When MySQL is slower
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
