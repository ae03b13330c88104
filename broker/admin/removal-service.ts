import { BrokerError } from '../../shared/errors';
import { retryOnDeadlock } from '../../shared/db/mysql-errors';
import { removeSubscription, removeTopic, stillSubscribed, type RemovedTopic } from '../../shared/lifecycle/removal';
import { writeAudit } from '../../shared/metadata/audit';
import { deleteConsumersOfGroup } from '../../shared/metadata/consumers';
import { deleteGroupRow, findGroupById, findSubscription, lockGroup, subscriptionsOfGroup, subscriptionsOfTopic, subscriptionsUsingSideTopic } from '../../shared/metadata/groups';
import { deleteOffsetsOfGroup } from '../../shared/metadata/offsets';
import { deleteFailuresOfGroup } from '../../shared/metadata/schedules';
import { deleteQueueRows, lockTopic, queueRowsOfNode } from '../../shared/metadata/topics';
import type { Topic } from '../../shared/metadata/rows';
import { dropQueueTable } from '../../shared/messages/sql/drop-queue-table';
import { toError } from '../../shared/errors';
import type { BrokerContext } from '../context';
import { requireGroup } from './group-service';
import { requireNode } from './node-service';
import { rebalanceGroups, requireTopic } from './topic-service';

const describeRemoved = (removed: RemovedTopic[], names: Map<number, string>) =>
  removed.map((r) => ({ topic: names.get(r.topicId) ?? String(r.topicId), releasedQueues: r.queueIds, scheduledDropped: r.scheduledDropped }));

/** A retry or dead topic belongs to one subscription: it goes when that subscription goes. */
async function refuseSideTopic(ctx: BrokerContext, topic: Topic): Promise<void> {
  const owners = await subscriptionsUsingSideTopic(ctx.db, topic.id);
  const owner = owners[0];
  if (!owner) return;
  const group = await findGroupById(ctx.db, owner.groupId);
  const source = await ctx.catalog.topicById(owner.topicId);
  throw new BrokerError(
    'CONFLICT',
    `topic ${topic.name} is the ${topic.kind} topic of group ${group?.name ?? owner.groupId}'s subscription to ${source?.name ?? owner.topicId}; unsubscribe that group instead`,
    { topic: topic.name, group: group?.name ?? null, sourceTopic: source?.name ?? null },
  );
}

/** Names of topics about to be deleted, for the answer and the audit entry. */
async function topicNames(ctx: BrokerContext, ids: number[]): Promise<Map<number, string>> {
  const topics = await Promise.all(ids.map((id) => ctx.catalog.topicById(id)));
  return new Map(topics.flatMap((t) => (t ? [[t.id, t.name] as const] : [])));
}

/**
 * Deletes a topic. While a group subscribes to it the answer is 409, unless `force`: then every
 * group is unsubscribed first (their retry and dead topics of it go too). The queues leave at once
 * and go back to the spare pool once portal-jobs has emptied them.
 */
export async function deleteTopic(ctx: BrokerContext, name: string, force: boolean, actor: string) {
  const topic = await requireTopic(ctx, name);
  await refuseSideTopic(ctx, topic);
  const subscribers = await subscriptionsOfTopic(ctx.db, topic.id);
  const refuse = (groupIds: number[]) =>
    new BrokerError('CONFLICT', `topic ${name} has subscribers; unsubscribe them or delete with ?force=true`, { topic: name, groupIds });
  if (subscribers.length > 0 && !force) throw refuse(subscribers.map((s) => s.groupId));
  const sideIds = subscribers.flatMap((s) => [s.retryTopicId, s.deadTopicId]).filter((id): id is number => id !== null);
  const names = await topicNames(ctx, [topic.id, ...sideIds]);
  const result = await retryOnDeadlock(() =>
    ctx.db.transaction(async (trx) => {
      if (!(await lockTopic(trx, topic.id))) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${name} does not exist`, { topic: name });
      const subs = await subscriptionsOfTopic(trx, topic.id);
      if (subs.length > 0 && !force) throw refuse(subs.map((s) => s.groupId));
      const removed: RemovedTopic[] = [];
      for (const sub of subs) {
        await lockGroup(trx, sub.groupId);
        removed.push(...(await removeSubscription(trx, sub)));
      }
      const own = await removeTopic(trx, topic.id);
      const answer = {
        deleted: name,
        releasedQueues: own.queueIds,
        scheduledDropped: own.scheduledDropped,
        unsubscribedGroups: subs.map((s) => s.groupId),
        removedSideTopics: describeRemoved(removed, names),
      };
      await writeAudit(trx, { actor, action: 'topic.delete', target: `topic:${name}`, detail: { force, ...answer } });
      return answer;
    }),
  );
  await ctx.catalog.reload();
  await rebalanceGroups(ctx, result.unsubscribedGroups);
  return result;
}

/** Unsubscribes a group from a topic; its retry and dead topics of it are deleted. */
export async function unsubscribe(ctx: BrokerContext, groupName: string, topicName: string, actor: string) {
  const group = await requireGroup(ctx, groupName);
  const topic = await requireTopic(ctx, topicName);
  const notSubscribed = () =>
    new BrokerError('SUBSCRIPTION_NOT_FOUND', `group ${groupName} does not subscribe to ${topicName}`, { group: groupName, topic: topicName });
  const sub = await findSubscription(ctx.db, group.id, topic.id);
  if (!sub) throw notSubscribed();
  if ((await subscriptionsUsingSideTopic(ctx.db, topic.id)).some((s) => s.groupId === group.id)) {
    throw new BrokerError('CONFLICT', `topic ${topicName} is this group's own ${topic.kind} topic; unsubscribe from its source topic instead`, {
      group: groupName,
      topic: topicName,
    });
  }
  const names = await topicNames(ctx, [sub.retryTopicId, sub.deadTopicId].filter((id): id is number => id !== null));
  const removed = await retryOnDeadlock(() =>
    ctx.db.transaction(async (trx) => {
      await lockGroup(trx, group.id);
      const current = await stillSubscribed(trx, sub);
      if (!current) throw notSubscribed();
      const side = await removeSubscription(trx, current);
      await writeAudit(trx, { actor, action: 'group.unsubscribe', target: `group:${groupName}`, detail: { topic: topicName, removedSideTopics: describeRemoved(side, names) } });
      return side;
    }),
  );
  await ctx.catalog.reload();
  await rebalanceGroups(ctx, [group.id]);
  return { group: groupName, topic: topicName, removedSideTopics: describeRemoved(removed, names) };
}

/** Deletes a group: its subscriptions (with their retry and dead topics), consumers, offsets, failure records. */
export async function deleteGroup(ctx: BrokerContext, name: string, actor: string) {
  const group = await requireGroup(ctx, name);
  const subs = await subscriptionsOfGroup(ctx.db, group.id);
  const names = await topicNames(ctx, subs.flatMap((s) => [s.topicId, s.retryTopicId, s.deadTopicId]).filter((id): id is number => id !== null));
  const result = await retryOnDeadlock(() =>
    ctx.db.transaction(async (trx) => {
      if (!(await lockGroup(trx, group.id))) throw new BrokerError('GROUP_NOT_FOUND', `consumer group ${name} does not exist`, { group: name });
      const removed: RemovedTopic[] = [];
      const unsubscribed: string[] = [];
      // Source subscriptions first: each takes its own retry-topic subscription with it.
      const ordered = [...(await subscriptionsOfGroup(trx, group.id))].sort((a, b) => Number(b.retryTopicId !== null) - Number(a.retryTopicId !== null));
      for (const sub of ordered) {
        const current = await stillSubscribed(trx, sub);
        if (!current) continue;
        removed.push(...(await removeSubscription(trx, current)));
        unsubscribed.push(names.get(sub.topicId) ?? String(sub.topicId));
      }
      await deleteFailuresOfGroup(trx, group.id);
      await deleteOffsetsOfGroup(trx, group.id);
      await deleteConsumersOfGroup(trx, group.id);
      await deleteGroupRow(trx, group.id);
      const answer = { deleted: name, unsubscribed, removedSideTopics: describeRemoved(removed, names) };
      await writeAudit(trx, { actor, action: 'group.delete', target: `group:${name}`, detail: answer });
      return answer;
    }),
  );
  await ctx.catalog.reload();
  return result;
}

/**
 * Removes a db node from tablemq. Refused while any topic's queue (or a released queue not yet
 * emptied) lives on it; its spare tables are dropped (best effort: the node may be gone already).
 */
export async function deleteDbNode(ctx: BrokerContext, name: string, actor: string) {
  const node = await requireNode(ctx, name);
  const spares = await ctx.db.transaction(async (trx) => {
    await trx('db_node').where({ id: node.id }).forUpdate().first('id');
    // Locks the node's queue rows: a topic claiming one of its spares now skips them.
    await trx('queue').where({ db_node_id: node.id }).forUpdate().select('id');
    const rows = await queueRowsOfNode(trx, node.id);
    const held = rows.filter((r) => r.topicId !== null || r.released);
    if (held.length > 0) {
      throw new BrokerError('CONFLICT', `db node ${name} still holds ${held.length} queue(s); delete or shrink their topics first`, {
        dbNode: name,
        queueIds: held.map((r) => r.id),
      });
    }
    await deleteQueueRows(trx, rows.map((r) => r.id));
    await trx('db_node').where({ id: node.id }).delete();
    await writeAudit(trx, { actor, action: 'db-node.delete', target: `db-node:${name}`, detail: { spareQueues: rows.map((r) => r.id) } });
    return rows.flatMap((r) => (r.tableName === null ? [] : [r.tableName]));
  });
  await ctx.catalog.reload();
  let dropped = 0;
  try {
    const { pool } = await ctx.nodes.get(node);
    for (const table of spares) {
      await dropQueueTable(pool, table);
      dropped += 1;
    }
  } catch (err) {
    ctx.logger.warn('could not drop the spare tables of a removed db node; they are unused and may be dropped by hand', {
      dbNode: name,
      err: toError(err).message,
    });
  }
  return { deleted: name, spareQueuesRemoved: spares.length, tablesDropped: dropped };
}
