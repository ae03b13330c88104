import { BrokerError } from '../../shared/errors';
import { isDuplicate, isMissingReference } from '../../shared/db/mysql-errors';
import { deleteConsumer, findConsumerByName, insertConsumer, touchConsumer } from '../../shared/metadata/consumers';
import { assignmentOf } from '../../shared/metadata/offsets';
import type { ConsumerGroup } from '../../shared/metadata/rows';
import { rebalanceGroup } from '../../shared/rebalance/rebalance';
import type { BrokerContext } from '../context';
import { consumerKey } from './waiting-pulls';

export async function requireGroupForConsumers(ctx: BrokerContext, name: string): Promise<ConsumerGroup> {
  const group = await ctx.catalog.group(name);
  if (!group) throw new BrokerError('GROUP_NOT_FOUND', `consumer group ${name} does not exist`, { group: name });
  return group;
}

export function expired(group: string, consumerId: number): BrokerError {
  return new BrokerError('CONSUMER_EXPIRED', `consumer ${consumerId} is not a live member of group ${group}; register again`, { group, consumerId });
}

/** What a consumer owns now, as {topic, queueId, committedOffset}, with the group generation they belong to. */
async function assignmentsOf(ctx: BrokerContext, groupId: number, consumerId: number) {
  const now = await assignmentOf(ctx.db, groupId, consumerId);
  const owned = now?.owned ?? [];
  const assignments = await Promise.all(
    owned.map(async (r) => ({ topic: (await ctx.catalog.topicById(r.topicId))?.name ?? String(r.topicId), queueId: r.queueId, committedOffset: r.committedOffset })),
  );
  return { assignments, generation: now?.generation ?? 0 };
}

async function rebalance(ctx: BrokerContext, groupId: number) {
  const result = await rebalanceGroup(ctx.db, groupId, ctx.config.sessionTimeoutMs);
  if (result && (result.moved > 0 || result.expiredConsumers.length > 0)) {
    ctx.logger.info('rebalanced group', { groupId, generation: result.generation, moved: result.moved, expired: result.expiredConsumers });
  }
  return result;
}

/**
 * Joins a consumer to a group. A live consumer re-registering under its name keeps its id (and its
 * queues); an expired one is replaced by a fresh id, so nothing it sends later can pass the fence.
 */
export async function register(ctx: BrokerContext, groupName: string, name: string, host: string | null) {
  const group = await requireGroupForConsumers(ctx, groupName);
  const timeout = ctx.config.sessionTimeoutMs;
  let consumerId: number | undefined;
  const existing = await findConsumerByName(ctx.db, group.id, name, timeout);
  if (existing?.alive && (await touchConsumer(ctx.db, group.id, existing.id, timeout))) {
    consumerId = existing.id;
  } else {
    if (existing) await deleteConsumer(ctx.db, group.id, existing.id);
    try {
      consumerId = await insertConsumer(ctx.db, { groupId: group.id, name, host });
    } catch (err) {
      // The group was deleted through another broker, whose change this one's catalog has not seen yet.
      if (isMissingReference(err)) throw new BrokerError('GROUP_NOT_FOUND', `consumer group ${groupName} does not exist`, { group: groupName });
      // Two registrations of one name raced: the other one won, answer with its id.
      if (!isDuplicate(err)) throw err;
      const winner = await findConsumerByName(ctx.db, group.id, name, timeout);
      if (!winner?.alive) throw err;
      consumerId = winner.id;
    }
  }
  await rebalance(ctx, group.id);
  const { assignments, generation } = await assignmentsOf(ctx, group.id, consumerId);
  return {
    consumerId,
    name,
    group: groupName,
    generation,
    heartbeatIntervalMs: ctx.config.heartbeatIntervalMs,
    sessionTimeoutMs: timeout,
    assignments,
  };
}

/**
 * Keeps a consumer alive and tells it what it owns. Each heartbeat also looks for peers that
 * stopped heartbeating and, if there are any, rebalances their queues away.
 */
export async function heartbeat(ctx: BrokerContext, groupName: string, consumerId: number) {
  const group = await requireGroupForConsumers(ctx, groupName);
  if (!(await touchConsumer(ctx.db, group.id, consumerId, ctx.config.sessionTimeoutMs))) throw expired(groupName, consumerId);
  const hasExpiredPeer = await ctx.db('consumer')
    .where({ consumer_group_id: group.id })
    .where(ctx.db.raw('heartbeat_at < NOW(3) - INTERVAL ? MICROSECOND', [ctx.config.sessionTimeoutMs * 1000]))
    .first('id');
  if (hasExpiredPeer) await rebalance(ctx, group.id);
  const { assignments, generation } = await assignmentsOf(ctx, group.id, consumerId);
  return { consumerId, generation, assignments };
}

/**
 * Removes a consumer at once and hands its queues to the others. Its pulls waiting on this broker
 * answer now, empty (those waiting on other brokers at their next poll); see pull.ts.
 */
export async function leave(ctx: BrokerContext, groupName: string, consumerId: number) {
  const group = await requireGroupForConsumers(ctx, groupName);
  if (!(await deleteConsumer(ctx.db, group.id, consumerId))) throw expired(groupName, consumerId);
  ctx.waitingPulls.wake(consumerKey(group.id, consumerId));
  const result = await rebalance(ctx, group.id);
  return { left: true, generation: result?.generation ?? group.generation };
}
