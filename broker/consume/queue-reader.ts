import { lockingReadBetween, readAfter, rowAgeMs, type StoredMessage } from '../../shared/messages/message-store';
import { isRetryable, isUnavailable } from '../../shared/db/mysql-errors';
import { nodeTarget, type QueueView } from '../catalog';
import type { BrokerContext } from '../context';
import { scanContiguous } from './contiguous';
import { METRIC } from '../metrics';

export interface SafeRead {
  messages: StoredMessage[];
  /** The scan stopped at a hole that is too young to pass. */
  blocked: boolean;
}

/**
 * Reads up to `limit` committed messages after `afterId` that are safe to hand out (see
 * contiguous.ts). A hole is passed only when the row after it is older than holeGraceMs by the
 * node's clock, and a locking read of the hole returns nothing.
 */
export function readSafe(ctx: BrokerContext, view: QueueView, afterId: number, limit: number): Promise<SafeRead> {
  // Pulls woken by the same produce often ask the same question (groups caught up at the same id):
  // they share one read instead of each sending its own.
  let reads = inFlightByBroker.get(ctx);
  if (!reads) inFlightByBroker.set(ctx, (reads = new Map()));
  const key = `${view.queue.id}:${afterId}:${limit}`;
  let read = reads.get(key);
  if (!read) {
    const map = reads;
    read = readSafeUncached(ctx, view, afterId, limit).finally(() => map.delete(key));
    reads.set(key, read);
  }
  return read;
}

/** Per broker: queue ids are only unique within one metadata database. */
const inFlightByBroker = new WeakMap<BrokerContext, Map<string, Promise<SafeRead>>>();

async function readSafeUncached(ctx: BrokerContext, view: QueueView, afterId: number, limit: number): Promise<SafeRead> {
  const conn = await ctx.nodes.get(nodeTarget(view.node));
  const table = view.queue.tableName;
  const rows = await readAfter(conn.pool, table, afterId, limit);
  const scan = await scanContiguous(rows, afterId, conn.idStep, async (holeAfter, holeBefore) => {
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
    ctx.metrics.inc(METRIC.holes[0], METRIC.holes[1], { queue: view.queue.id });
    ctx.logger.debug('passing a permanent id hole', { queueId: view.queue.id, after: holeAfter, before: holeBefore, ageMs: age });
    return true;
  });
  const last = scan.rows[scan.rows.length - 1];
  if (last) ctx.signals.seen(view.queue.id, last.id);
  return { messages: scan.rows, blocked: scan.blocked };
}
