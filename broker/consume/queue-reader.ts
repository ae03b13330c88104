import type { MessageJsonRow } from '../../shared/messages/message';
import { lockingReadBetween } from '../../shared/messages/sql/locking-read-between';
import { readMessagesJson, type RangeRead } from '../../shared/messages/sql/read-messages-json';
import { rowAgeMs } from '../../shared/messages/sql/row-age';
import { isRetryable, isUnavailable } from '../../shared/db/mysql-errors';
import type { QueueView } from '../catalog';
import { queueConnection } from '../queue-connection';
import type { BrokerContext } from '../context';
import { scanContiguous } from './contiguous';

export interface SafeRead {
  messages: MessageJsonRow[];
  /** The scan stopped at a hole that is too young to pass. */
  blocked: boolean;
  /** Rows were left out to keep within the request's bytes: the queue has more. */
  truncated: boolean;
}

/** Up to `limit` messages of one queue after `afterId`, and about `maxBytes` of them (at least one). */
export interface ReadRequest {
  view: QueueView;
  afterId: number;
  limit: number;
  maxBytes: number;
}

/**
 * Reads committed messages that are safe to hand out (see contiguous.ts) from several queues:
 * one statement per db node, whatever the number of queues on it. A hole is passed only when the
 * row after it is older than holeGraceMs by the node's clock, and a locking read of the hole
 * returns nothing. Answers in the order of `requests`.
 */
export async function readSafe(ctx: BrokerContext, requests: readonly ReadRequest[]): Promise<SafeRead[]> {
  const byNode = new Map<number, ReadRequest[]>();
  for (const r of requests) {
    const list = byNode.get(r.view.node.id);
    if (list) list.push(r);
    else byNode.set(r.view.node.id, [r]);
  }
  const answers = new Map<ReadRequest, SafeRead>();
  await Promise.all(
    [...byNode.values()].map(async (onNode) => {
      const reads = await readNodeShared(ctx, onNode);
      onNode.forEach((r, i) => answers.set(r, reads[i]!));
    }),
  );
  return requests.map((r) => answers.get(r)!);
}

/**
 * A broker's reads in flight, by what they ask. Pulls woken by the same produce often ask the same
 * question (groups caught up at the same ids): they share one read instead of each sending its
 * own. One per broker (in its context): queue ids are only unique within one metadata database.
 */
export class SharedReads {
  private readonly inFlight = new Map<string, Promise<SafeRead[]>>();

  /** The read in flight for `key`, or a new one started by `start`. */
  share(key: string, start: () => Promise<SafeRead[]>): Promise<SafeRead[]> {
    let read = this.inFlight.get(key);
    if (!read) {
      read = start().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, read);
    }
    return read;
  }
}

function readNodeShared(ctx: BrokerContext, onNode: readonly ReadRequest[]): Promise<SafeRead[]> {
  const key = onNode.map((r) => `${r.view.queue.id}:${r.afterId}:${r.limit}:${r.maxBytes}`).join('|');
  return ctx.sharedReads.share(key, () => readNode(ctx, onNode));
}

async function readNode(ctx: BrokerContext, onNode: readonly ReadRequest[]): Promise<SafeRead[]> {
  const conn = await queueConnection(ctx, onNode[0]!.view.queue);
  const reads = await readMessagesJson(
    conn.pool,
    onNode.map((r) => ({ table: r.view.queue.tableName, topic: r.view.topic.name, queueId: r.view.queue.id, afterId: r.afterId, limit: r.limit, maxBytes: r.maxBytes })),
  );
  return Promise.all(onNode.map((r, i) => scanQueue(ctx, conn, r, reads[i]!)));
}

/** Keeps the rows of one queue that are safe to hand out, and notes how far the table reached. */
async function scanQueue(
  ctx: BrokerContext,
  conn: Awaited<ReturnType<BrokerContext['nodes']['get']>>,
  { view, afterId, limit }: ReadRequest,
  { rows, returned, truncated, largestRow }: RangeRead,
): Promise<SafeRead> {
  const table = view.queue.tableName;
  const passable = async (holeAfter: number, holeBefore: number): Promise<boolean> => {
    const age = await rowAgeMs(conn.pool, table, holeBefore);
    if (age === null || age < ctx.config.holeGraceMs) return false;
    let filled: number[];
    try {
      filled = await lockingReadBetween(conn.pool, table, holeAfter, holeBefore);
    } catch (err) {
      // A writer has held the range longer than any produce may: leave the hole for a later pull.
      if (isRetryable(err) || isUnavailable(err)) return false;
      throw err;
    }
    if (filled.length > 0) return false; // they committed meanwhile: the next read delivers them in order
    ctx.logger.debug('passing a permanent id hole', { queueId: view.queue.id, after: holeAfter, before: holeBefore, ageMs: age });
    return true;
  };
  const scan = await scanContiguous(rows, afterId, conn.idStep, async (holeAfter, holeBefore) => {
    const pass = await passable(holeAfter, holeBefore);
    (pass ? ctx.metrics.holesSkipped : ctx.metrics.holesWaited).inc({ queue: view.queue.id });
    return pass;
  });
  const lastRow = rows[rows.length - 1];
  if (lastRow) ctx.signals.seen(view.queue.id, lastRow.id);
  // Fewer rows than asked: the table ended there (a hint for sizing the next reads of this queue).
  if (returned < limit) ctx.signals.endSeen(view.queue.id, lastRow?.id ?? afterId);
  if (returned > 0) ctx.signals.rowSizeSeen(view.queue.id, largestRow);
  return { messages: scan.rows, blocked: scan.blocked, truncated };
}
