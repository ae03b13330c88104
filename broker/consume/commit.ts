import { BrokerError } from '../../shared/errors';
import { retryOnDeadlock } from '../../shared/db/mysql-errors';
import type { FencedQueue } from '../../shared/metadata/fencing';
import { commitOffsets, raiseOffsets } from '../../shared/metadata/offsets';
import type { BrokerContext } from '../context';
import { fence, rebalanced } from './fence';
import { requireGroupForConsumers } from './membership';
import { requireWithinQueue } from './queue-range';

export interface CommitRequest {
  offsets: { queueId: number; offset: number }[];
  /** The group generation of the pull that delivered the messages; queues that changed hands or were reset since are fenced. */
  generation?: number;
}

/**
 * Commits the offsets of the queues the fencing rule lets through and reports the others: the
 * answer's `committed` moved (forward only), its `fenced` did not, each with its reason. When no
 * queue gets through the answer is 409 REBALANCED (same list in details); an expired consumer gets
 * 404, a generation from the future 409 UNKNOWN_GENERATION, and then nothing moves. A commit does
 * not count as a heartbeat (pulls and heartbeats do).
 */
export async function commit(ctx: BrokerContext, groupName: string, consumerId: number, req: CommitRequest) {
  const group = await requireGroupForConsumers(ctx, groupName);
  const byQueue = new Map<number, number>();
  for (const o of req.offsets) byQueue.set(o.queueId, Math.max(o.offset, byQueue.get(o.queueId) ?? 0));
  const offsets = [...byQueue].map(([queueId, offset]) => ({ queueId, offset }));

  for (const o of offsets) {
    const view = await ctx.catalog.queue(o.queueId);
    if (!view) throw new BrokerError('QUEUE_NOT_FOUND', `queue ${o.queueId} does not exist`, { queueId: o.queueId });
    await requireWithinQueue(ctx, view, o.offset, 'offset');
  }

  const seenGeneration = req.generation ?? null;
  // The hot path: one statement commits every queue, or none when any is fenced.
  const matched = await retryOnDeadlock(() =>
    commitOffsets(ctx.db, { groupId: group.id, consumerId, offsets, seenGeneration, sessionTimeoutMs: ctx.config.sessionTimeoutMs }),
  );
  let answer: { committed: typeof offsets; fenced: FencedQueue[] } = { committed: offsets, fenced: [] };
  if (matched !== offsets.length) {
    // Something is fenced (or the consumer expired): decide queue by queue under the group's lock.
    answer = await retryOnDeadlock(() =>
      ctx.db.transaction(async (trx) => {
        const { fenced } = await fence(ctx, trx, group, consumerId, offsets.map((o) => o.queueId), seenGeneration);
        if (fenced.length === offsets.length) throw rebalanced(consumerId, fenced);
        const refused = new Set(fenced.map((f) => f.queueId));
        const committed = offsets.filter((o) => !refused.has(o.queueId));
        await raiseOffsets(trx, group.id, committed);
        return { committed, fenced };
      }),
    );
  }
  ctx.ownership.committed(group.id, consumerId, answer.committed);
  ctx.metrics.commits.inc();
  return answer;
}
