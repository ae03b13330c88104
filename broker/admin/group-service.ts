import { BrokerError } from '../../shared/errors';
import { isDuplicate } from '../../shared/db/mysql-errors';
import { writeAudit } from '../../shared/metadata/audit';
import { consumersOfGroup } from '../../shared/metadata/consumers';
import { bumpGeneration, findGroupByName, findSubscription, insertGroup, insertSubscription, lockGroup, setGroupPaused, subscriptionsOfGroup } from '../../shared/metadata/groups';
import { insertOffsetIfMissing, offsetsOfGroup, resetOffset } from '../../shared/metadata/offsets';
import type { Knex } from 'knex';
import type { ConsumerGroup, GroupMode, StartFrom, Subscription, Topic } from '../../shared/metadata/rows';
import { findTopicByName, queuesOfTopic } from '../../shared/metadata/topics';
import { offsetBeforeTime } from '../../shared/messages/sql/id-bounds';
import { queueConnection, queueMaxId } from '../queue-connection';
import type { BrokerContext } from '../context';
import { createTopic, rebalanceGroups, requireTopic } from './topic-service';

export function describeGroup(g: ConsumerGroup) {
  return { id: g.id, name: g.name, mode: g.mode, paused: g.paused, maxRetries: g.maxRetries, generation: g.generation, createdAt: g.createdAt.toISOString() };
}

export async function requireGroup(ctx: BrokerContext, name: string): Promise<ConsumerGroup> {
  const group = await findGroupByName(ctx.db, name);
  if (!group) throw new BrokerError('GROUP_NOT_FOUND', `consumer group ${name} does not exist`, { group: name });
  return group;
}

export async function createGroup(ctx: BrokerContext, req: { name: string; mode?: GroupMode; maxRetries?: number }, actor: string) {
  await ctx.db.transaction(async (trx) => {
    try {
      await insertGroup(trx, { name: req.name, mode: req.mode ?? 'cluster', maxRetries: req.maxRetries ?? 16 });
      await writeAudit(trx, { actor, action: 'group.create', target: `group:${req.name}`, detail: req });
    } catch (err) {
      if (isDuplicate(err)) throw new BrokerError('ALREADY_EXISTS', `consumer group ${req.name} already exists`, { group: req.name });
      throw err;
    }
  });
  return describeGroup(await requireGroup(ctx, req.name));
}

export interface SubscribeRequest {
  topic: string;
  start?: StartFrom;
  tags?: string[];
  maxRetries?: number;
  backoffMs?: number[];
  maxLag?: number;
}

/** Name of a group's retry or dead topic for a source topic; readable, and within the name limit. */
export function sideTopicName(group: ConsumerGroup, topic: Topic, kind: 'retry' | 'dead'): string {
  const readable = `${group.name}.${topic.name}.${kind}`;
  return readable.length <= 120 ? readable : `g${group.id}.t${topic.id}.${kind}`;
}

/** The group's retry or dead topic for `topic`, created (one queue) the first time it is needed. */
async function ensureSideTopic(ctx: BrokerContext, group: ConsumerGroup, topic: Topic, kind: 'retry' | 'dead', actor: string): Promise<Topic> {
  const name = sideTopicName(group, topic, kind);
  const existing = await findTopicByName(ctx.db, name);
  if (existing) {
    if (existing.kind !== kind) throw new BrokerError('CONFLICT', `topic ${name} exists and is not a ${kind} topic`, { topic: name });
    return existing;
  }
  try {
    await createTopic(ctx, { name, queues: 1, retentionHours: topic.retentionHours, maxMessageBytes: topic.maxMessageBytes }, actor, kind);
  } catch (err) {
    // Two subscriptions raced to create it: the other one's topic serves us too.
    if (!(err instanceof BrokerError && err.code === 'ALREADY_EXISTS')) throw err;
  }
  return requireTopic(ctx, name);
}

async function addOffsets(ctx: BrokerContext, trx: Knex.Transaction, groupId: number, topic: Topic, start: StartFrom): Promise<void> {
  for (const queue of await queuesOfTopic(trx, topic.id)) {
    const offset = start === 'earliest' ? 0 : await queueMaxId(ctx, queue);
    await insertOffsetIfMissing(trx, { groupId, queueId: queue.id, topicId: topic.id, committedOffset: offset });
  }
}

/**
 * Subscribes a group to a topic: one offset row per queue, starting at the queue's current MAX(id)
 * ("latest") or at 0 ("earliest"), then a rebalance hands the queues to the live consumers. A
 * normal topic also gets the group's retry and dead topics, and the group reads its retry topic.
 */
export async function subscribe(ctx: BrokerContext, groupName: string, req: SubscribeRequest, actor: string) {
  const group = await requireGroup(ctx, groupName);
  const topic = await requireTopic(ctx, req.topic);
  const start = req.start ?? 'latest';
  if (await findSubscription(ctx.db, group.id, topic.id)) {
    throw new BrokerError('ALREADY_EXISTS', `group ${groupName} already subscribes to ${req.topic}`, { group: groupName, topic: req.topic });
  }
  const side = topic.kind === 'normal' ? { retry: await ensureSideTopic(ctx, group, topic, 'retry', actor), dead: await ensureSideTopic(ctx, group, topic, 'dead', actor) } : undefined;
  const id = await ctx.db.transaction(async (trx) => {
    await lockGroup(trx, group.id);
    let subscriptionId: number;
    try {
      subscriptionId = await insertSubscription(trx, {
        groupId: group.id,
        topicId: topic.id,
        startFrom: start,
        tags: req.tags ?? null,
        maxRetries: req.maxRetries ?? null,
        retryTopicId: side?.retry.id ?? null,
        deadTopicId: side?.dead.id ?? null,
        backoffMs: req.backoffMs ?? null,
        maxLag: req.maxLag ?? null,
      });
    } catch (err) {
      if (isDuplicate(err)) throw new BrokerError('ALREADY_EXISTS', `group ${groupName} already subscribes to ${req.topic}`, { group: groupName, topic: req.topic });
      throw err;
    }
    await addOffsets(ctx, trx, group.id, topic, start);
    if (side && !(await findSubscription(trx, group.id, side.retry.id))) {
      await insertSubscription(trx, { groupId: group.id, topicId: side.retry.id, startFrom: 'earliest', tags: null, maxRetries: null });
      await addOffsets(ctx, trx, group.id, side.retry, 'earliest');
    }
    await writeAudit(trx, { actor, action: 'group.subscribe', target: `group:${groupName}`, detail: { ...req, start } });
    return subscriptionId;
  });
  await ctx.catalog.reload();
  await rebalanceGroups(ctx, [group.id]);
  return {
    id,
    group: groupName,
    topic: req.topic,
    start,
    tags: req.tags ?? null,
    maxRetries: req.maxRetries ?? group.maxRetries,
    backoffMs: req.backoffMs ?? null,
    maxLag: req.maxLag ?? null,
    retryTopic: side?.retry.name ?? null,
    deadTopic: side?.dead.name ?? null,
  };
}

/** A subscription as the admin API shows it (settings left unset show the group's or the default). */
export async function describeSubscription(ctx: BrokerContext, group: ConsumerGroup, s: Subscription) {
  const nameOf = async (id: number | null) => (id === null ? null : ((await ctx.catalog.topicById(id))?.name ?? null));
  return {
    id: s.id,
    group: group.name,
    topic: (await ctx.catalog.topicById(s.topicId))?.name ?? String(s.topicId),
    start: s.startFrom,
    tags: s.tags,
    maxRetries: s.maxRetries ?? group.maxRetries,
    backoffMs: s.backoffMs,
    maxLag: s.maxLag,
    retryTopic: await nameOf(s.retryTopicId),
    deadTopic: await nameOf(s.deadTopicId),
  };
}

export async function listSubscriptions(ctx: BrokerContext, groupName: string) {
  const group = await requireGroup(ctx, groupName);
  const subs = await subscriptionsOfGroup(ctx.db, group.id);
  return Promise.all(subs.map((s) => describeSubscription(ctx, group, s)));
}

export async function setPaused(ctx: BrokerContext, groupName: string, paused: boolean, actor: string) {
  const group = await requireGroup(ctx, groupName);
  await ctx.db.transaction(async (trx) => {
    await setGroupPaused(trx, group.id, paused);
    await writeAudit(trx, { actor, action: paused ? 'group.pause' : 'group.resume', target: `group:${groupName}` });
  });
  await ctx.catalog.reload();
  return describeGroup(await requireGroup(ctx, groupName));
}

/** Lag per queue: MAX(id) − committed offset (ids, so holes make it an upper bound). */
export async function groupLag(ctx: BrokerContext, groupName: string) {
  const group = await requireGroup(ctx, groupName);
  const rows = await offsetsOfGroup(ctx.db, group.id);
  const queues = await Promise.all(
    rows.map(async (r) => {
      const view = await ctx.catalog.queue(r.queueId);
      const maxId = view ? await queueMaxId(ctx, view.queue) : 0;
      return {
        topic: view?.topic.name ?? String(r.topicId),
        queueId: r.queueId,
        maxId,
        committed: r.committedOffset,
        lag: Math.max(0, maxId - r.committedOffset),
        consumerId: r.consumerId,
      };
    }),
  );
  return { group: groupName, generation: group.generation, totalLag: queues.reduce((sum, q) => sum + q.lag, 0), queues };
}

export async function listConsumers(ctx: BrokerContext, groupName: string) {
  const group = await requireGroup(ctx, groupName);
  const [consumers, offsets] = await Promise.all([consumersOfGroup(ctx.db, group.id, ctx.config.sessionTimeoutMs), offsetsOfGroup(ctx.db, group.id)]);
  return {
    group: groupName,
    generation: group.generation,
    consumers: consumers.map((c) => ({
      id: c.id,
      name: c.name,
      host: c.host,
      alive: c.alive,
      heartbeatAt: c.heartbeatAt.toISOString(),
      queues: offsets.filter((o) => o.consumerId === c.id).map((o) => o.queueId),
    })),
    unassignedQueues: offsets.filter((o) => o.consumerId === null).map((o) => o.queueId),
  };
}

export type ResetTarget = 'earliest' | 'latest' | { timestamp: string } | { id: number; queueId?: number };

/**
 * Moves a group's offsets on one topic. The new generation fences commits from before the reset,
 * so a consumer that pulled earlier can't push the offset back over it.
 */
export async function resetOffsets(ctx: BrokerContext, groupName: string, topicName: string, to: ResetTarget, actor: string) {
  const group = await requireGroup(ctx, groupName);
  const topic = await requireTopic(ctx, topicName);
  const queues = await queuesOfTopic(ctx.db, topic.id);
  if (typeof to === 'object' && 'queueId' in to && to.queueId !== undefined && !queues.some((q) => q.id === to.queueId)) {
    throw new BrokerError('QUEUE_NOT_FOUND', `queue ${to.queueId} is not part of topic ${topicName}`);
  }
  return ctx.db.transaction(async (trx) => {
    await lockGroup(trx, group.id);
    const rows = (await offsetsOfGroup(trx, group.id)).filter((r) => r.topicId === topic.id);
    if (rows.length === 0) throw new BrokerError('SUBSCRIPTION_NOT_FOUND', `group ${groupName} does not subscribe to ${topicName}`);
    const generation = await bumpGeneration(trx, group.id);
    const result: { queueId: number; offset: number }[] = [];
    for (const row of rows) {
      const queue = queues.find((q) => q.id === row.queueId);
      if (!queue) continue;
      let offset: number;
      if (to === 'earliest') offset = 0;
      else if (to === 'latest') offset = await queueMaxId(ctx, queue);
      else if ('timestamp' in to) {
        offset = await offsetBeforeTime((await queueConnection(ctx, queue)).pool, queue.tableName, new Date(to.timestamp));
      } else {
        if (to.queueId !== undefined && to.queueId !== queue.id) continue;
        const max = await queueMaxId(ctx, queue);
        if (to.id > max) throw new BrokerError('OFFSET_OUT_OF_RANGE', `offset ${to.id} is above queue ${queue.id}'s max id ${max}`);
        offset = to.id;
      }
      await resetOffset(trx, group.id, queue.id, offset, generation);
      result.push({ queueId: queue.id, offset });
    }
    await writeAudit(trx, { actor, action: 'group.offsets.reset', target: `group:${groupName}`, detail: { topic: topicName, to, result } });
    return { group: groupName, topic: topicName, generation, offsets: result };
  });
}
