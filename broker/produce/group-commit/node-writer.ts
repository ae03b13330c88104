/**
 * Group commit, all of it in this folder: node-writer.ts gathers produce requests per db node and
 * decides when a write starts and which requests it carries; write-transaction.ts runs one write
 * as one transaction; insert-plan.ts picks text or prepared INSERTs for each table's rows;
 * pending-budget.ts bounds the bytes waiting. The INSERT statement itself is
 * shared/messages/sql/insert-messages.ts.
 */
import { rowBytes, type NewMessage } from '../../../shared/messages/message';
import type { TableBatch } from './write-transaction';
import type { PendingBudget } from './pending-budget';

/** Writes batches for several tables of one node in one transaction; returns the ids of each batch's rows. */
export type NodeInsert = (batches: readonly TableBatch[]) => Promise<number[][]>;

/** Rows of one request for one queue, waiting for the next write. */
interface Pending {
  queueId: number;
  table: string;
  messages: readonly NewMessage[];
  bytes: number;
  resolve: (ids: number[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Only writes up to this size make the next one wait for returning producers: a small write's
 * cost is mostly its commit (an fsync), which the wait shares; a large one's is its rows, and
 * waiting would only stop it overlapping with the next.
 */
const SMALL_WRITE_BYTES = 64 * 1024;

/** One INSERT of a write: which requests' rows it carries, in order. */
interface Statement {
  queueId: number;
  table: string;
  parts: { pending: Pending; from: number; count: number }[];
  rows: NewMessage[];
  bytes: number;
}

export interface WriterLimits {
  /** Rows per write (all queues together); a request larger than this is written alone. */
  maxRows: number;
  /** Bytes per write, and per round trip of a write that is split. */
  maxBytes: number;
  /** Writes in flight per node: one more lets the next batch form while a commit is in flight. */
  maxInFlight: number;
  /**
   * How long the next write may wait for the requests of clients it has just answered (0: never).
   * See `expectedReturns`.
   */
  returnWaitMs: number;
}

/**
 * Group commit for one db node (docs/architecture.md, "Group commit"). A commit costs an fsync of the node's redo
 * log whatever the number of tables it touches, and every statement a round trip with socket
 * writes on both sides; so requests for ANY queue of the node that arrive while a write is in
 * flight wait in `pending` and go out together: one transaction, one multi-row INSERT per queue,
 * usually one round trip. A request is answered with its own ids only after that commit returned.
 * A lone request waits one event-loop turn, or `returnWaitMs` right after a small write that
 * several requests shared was answered (see `expectedReturns`). A request's rows for one queue
 * are never split across writes.
 */
export class NodeWriter {
  private pending: Pending[] = [];
  private pendingRows = 0;
  private pendingBytes = 0;
  private inFlight = 0;
  private scheduled = false;
  /**
   * Rows answered by recent shared writes whose producers have not sent again yet. Most producers
   * send their next request as soon as the last one is answered; starting a write before they have
   * done so splits them over two commits (and two fsyncs) where one would do. So a write waits
   * until as many rows have arrived as were just answered, for `returnWaitMs` at most, unless
   * what is pending already fills a write.
   */
  private expectedReturns = 0;
  /** When the wait for those producers ends (performance.now() time). */
  private expectedUntil = 0;
  private returnWait: NodeJS.Timeout | undefined;

  constructor(
    private readonly insert: NodeInsert,
    private readonly limits: WriterLimits,
    private readonly budget: PendingBudget,
    private readonly onCommitted: (queueId: number, lastId: number) => void,
    /** Called with the queues of each write as it starts (the router moves unkeyed traffic on). */
    private readonly onWriteStart: (queueIds: ReadonlySet<number>) => void,
  ) {}

  append(queueId: number, table: string, messages: readonly NewMessage[]): Promise<number[]> {
    const bytes = messages.reduce((sum, m) => sum + rowBytes(m), 0);
    this.budget.take(bytes); // throws OVERLOADED when the broker already holds too much
    return new Promise<number[]>((resolve, reject) => {
      this.pending.push({ queueId, table, messages, bytes, resolve, reject });
      this.pendingRows += messages.length;
      this.pendingBytes += bytes;
      this.expectedReturns = Math.max(0, this.expectedReturns - messages.length);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.limits.maxInFlight || this.pending.length === 0) return;
    const full = this.pendingRows >= this.limits.maxRows || this.pendingBytes >= this.limits.maxBytes;
    if (this.expectedReturns > 0 && !full) {
      const left = this.expectedUntil - performance.now();
      if (left > 0) {
        this.returnWait ??= setTimeout(() => {
          this.returnWait = undefined;
          this.schedule();
        }, left);
        return;
      }
      this.expectedReturns = 0;
    }
    if (this.returnWait !== undefined) {
      clearTimeout(this.returnWait);
      this.returnWait = undefined;
    }
    this.scheduled = true;
    // setImmediate, not a timer: requests parsed in this same turn join the batch, and a lone
    // request is delayed by one turn of the event loop only.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** The next write's requests, with their total rows and bytes. */
  private takeBatch(): { batch: Pending[]; rows: number; bytes: number } {
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
    this.pendingRows -= rows;
    this.pendingBytes -= bytes;
    return { batch, rows, bytes };
  }

  private flush(): void {
    while (this.inFlight < this.limits.maxInFlight && this.pending.length > 0) {
      const { batch, rows, bytes } = this.takeBatch();
      this.onWriteStart(new Set(batch.map((p) => p.queueId)));
      this.inFlight++;
      this.write(batch)
        // Whatever throws, before or after the INSERT, answers every request of the write (a
        // request already answered ignores it) instead of escaping as an unhandled rejection.
        .catch((err: unknown) => {
          for (const p of batch) p.reject(err);
        })
        .finally(() => {
          this.inFlight--;
          for (const p of batch) this.budget.give(p.bytes);
          this.expectReturns(batch.length, rows, bytes);
          this.schedule();
        });
    }
  }

  /**
   * After a small write that several requests shared is answered: their producers are likely to
   * send again within returnWaitMs. A write of one request makes no one wait: producers that send
   * at their own pace (not when answered) would otherwise leave expectations behind that delay
   * the next request of someone else.
   */
  private expectReturns(requests: number, rows: number, bytes: number): void {
    if (this.limits.returnWaitMs === 0 || requests < 2 || bytes > SMALL_WRITE_BYTES) return;
    const now = performance.now();
    const stillExpected = now < this.expectedUntil ? this.expectedReturns : 0;
    this.expectedReturns = stillExpected + rows;
    this.expectedUntil = now + this.limits.returnWaitMs;
  }

  /**
   * One INSERT per queue, rows in arrival order. An INSERT stays within the row and byte bounds:
   * a request above them is cut into several INSERTs of the same transaction (ids are consecutive
   * within each INSERT only).
   */
  private statementsOf(batch: readonly Pending[]): Statement[] {
    const statements: Statement[] = [];
    const open = new Map<number, Statement>();
    for (const p of batch) {
      let current: Statement | undefined;
      for (let i = 0; i < p.messages.length; i++) {
        const m = p.messages[i]!;
        const bytes = rowBytes(m);
        current ??= open.get(p.queueId);
        if (!current || current.rows.length >= this.limits.maxRows || (current.rows.length > 0 && current.bytes + bytes > this.limits.maxBytes)) {
          current = { queueId: p.queueId, table: p.table, parts: [], rows: [], bytes: 0 };
          statements.push(current);
          open.set(p.queueId, current);
        }
        const part = current.parts[current.parts.length - 1];
        if (part?.pending === p) part.count++;
        else current.parts.push({ pending: p, from: i, count: 1 });
        current.rows.push(m);
        current.bytes += bytes;
      }
    }
    return statements;
  }

  private async write(batch: Pending[]): Promise<void> {
    const statements = this.statementsOf(batch);
    const rowIds = await this.insert(statements.map((s) => ({ table: s.table, messages: s.rows })));
    const ids = new Map<Pending, number[]>(batch.map((p) => [p, new Array<number>(p.messages.length)]));
    statements.forEach((s, k) => {
      let offset = 0;
      for (const part of s.parts) {
        const out = ids.get(part.pending)!;
        for (let i = 0; i < part.count; i++) out[part.from + i] = rowIds[k]![offset + i]!;
        offset += part.count;
      }
    });
    // Committed: answer first, so that a failure of what follows can't turn into an error for
    // rows that are stored (a producer would send them again).
    for (const p of batch) p.resolve(ids.get(p)!);
    statements.forEach((s, k) => this.onCommitted(s.queueId, rowIds[k]![s.rows.length - 1]!));
  }
}
