import { BrokerError } from '../../shared/errors';
import { retryOnDeadlock } from '../../shared/db/mysql-errors';
import { findLiveConsumer } from '../../shared/metadata/consumers';
import { commitOffsets, offsetsOfConsumer } from '../../shared/metadata/offsets';
import type { BrokerContext } from '../context';
import { queueMaxId } from '../admin/topic-service';
import { expired, requireGroupForConsumers } from './membership';
import { METRIC } from '../metrics';

export interface CommitRequest {
  offsets: { queueId: number; offset: number }[];
  /** The generation the consumer last saw (from pull or heartbeat); commits from before a later rebalance or reset are refused. */
  generation?: number;
}

/**
 * Commits offsets all-or-nothing: every queue must be owned by this consumer (in a generation no
 * newer than the one it names), else 409 REBALANCED and nothing moves; an expired consumer gets
 * 404. Offsets only move forward. A commit does not count as a heartbeat (pulls and heartbeats do).
 */
export async function commit(ctx: BrokerContext, groupName: string, consumerId: number, req: CommitRequest) {
  const group = await requireGroupForConsumers(ctx, groupName);
  const byQueue = new Map<number, number>();
  for (const o of req.offsets) byQueue.set(o.queueId, Math.max(o.offset, byQueue.get(o.queueId) ?? 0));
  const offsets = [...byQueue].map(([queueId, offset]) => ({ queueId, offset }));

  for (const o of offsets) {
    const view = await ctx.catalog.queue(o.queueId);
    if (!view) throw new BrokerError('QUEUE_NOT_FOUND', `queue ${o.queueId} does not exist`, { queueId: o.queueId });
    if (o.offset > ctx.signals.knownMaxId(o.queueId)) {
      const max = await queueMaxId(ctx, view.queue);
      ctx.signals.seen(o.queueId, max);
      if (o.offset > max) {
        throw new BrokerError('OFFSET_OUT_OF_RANGE', `offset ${o.offset} is beyond queue ${o.queueId}'s last message ${max}`, { queueId: o.queueId, offset: o.offset, maxId: max });
      }
    }
  }

  const matched = await retryOnDeadlock(() =>
    commitOffsets(ctx.db, { groupId: group.id, consumerId, offsets, seenGeneration: req.generation ?? null, sessionTimeoutMs: ctx.config.sessionTimeoutMs }),
  );
  if (matched !== offsets.length) {
    // Nothing was applied. Find out why, for the answer (this path is rare, the hot one is above).
    if (!(await findLiveConsumer(ctx.db, group.id, consumerId, ctx.config.sessionTimeoutMs))) throw expired(groupName, consumerId);
    const owned = new Map((await offsetsOfConsumer(ctx.db, group.id, consumerId)).map((o) => [o.queueId, o.generation]));
    const fenced = offsets.filter((o) => !owned.has(o.queueId) || (req.generation !== undefined && owned.get(o.queueId)! > req.generation)).map((o) => o.queueId);
    throw new BrokerError('REBALANCED', `consumer ${consumerId} no longer owns queue(s) ${fenced.join(', ')} in this generation; pull again`, { fencedQueueIds: fenced });
  }
  ctx.ownership.committed(group.id, consumerId, offsets);
  ctx.metrics.inc(METRIC.commits[0], METRIC.commits[1]);
  return { committed: offsets };
}
