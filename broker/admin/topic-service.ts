import type { Knex } from 'knex';
import { BrokerError, toError } from '../../shared/errors';
import { shrinkStanding } from '../../shared/lifecycle/shrink';
import { isDuplicate } from '../../shared/db/mysql-errors';
import { writeAudit } from '../../shared/metadata/audit';
import { findGroupById, subscriptionsOfTopic } from '../../shared/metadata/groups';
import { findDbNodeByName, listDbNodes } from '../../shared/metadata/nodes';
import { insertOffsetIfMissing } from '../../shared/metadata/offsets';
import type { Queue, Topic, TopicKind } from '../../shared/metadata/rows';
import { claimSpareQueues, findTopicByName, insertTopic, listSpareQueues, queuesOfTopic, setQueueFlags } from '../../shared/metadata/topics';
import { rebalanceGroup } from '../../shared/rebalance/rebalance';
import { queueConnection, queueMaxId } from '../queue-connection';
import type { BrokerContext } from '../context';
import { createSpareQueues, createSpareQueuesOnEmptiestNodes } from './queue-tables';

export interface TopicAnswer {
  id: number;
  name: string;
  kind: TopicKind;
  retentionHours: number;
  maxMessageBytes: number;
  owner: string | null;
  createdAt: string;
  queues: { id: number; dbNode: string; table: string; readable: boolean; writable: boolean; retiringSince: string | null }[];
  /** Queues on their way out of the topic (see shrinkTopic), with the groups still reading them. */
  shrinking: ShrinkView[];
}

interface ShrinkView {
  queueId: number;
  since: string;
  forced: boolean;
  /** The queue's last message; null when its node could not be asked. */
  lastId: number | null;
  waitingFor: { group: string; committed: number }[];
  error?: string;
}

async function describeShrink(ctx: BrokerContext, queue: Queue, since: Date): Promise<ShrinkView> {
  const base = { queueId: queue.id, since: since.toISOString(), forced: queue.shrinkForced };
  try {
    const standing = await shrinkStanding(ctx.db, (await queueConnection(ctx, queue)).pool, queue);
    const waiting = standing.groups.filter((g) => !g.caughtUp);
    const waitingFor = await Promise.all(waiting.map(async (g) => ({ group: (await findGroupById(ctx.db, g.groupId))?.name ?? String(g.groupId), committed: g.committedOffset })));
    return { ...base, lastId: standing.lastId, waitingFor };
  } catch (err) {
    return { ...base, lastId: null, waitingFor: [], error: toError(err).message };
  }
}

export async function describeTopic(ctx: BrokerContext, topic: Topic): Promise<TopicAnswer> {
  const [queues, nodes] = await Promise.all([queuesOfTopic(ctx.db, topic.id), listDbNodes(ctx.db)]);
  const nodeNames = new Map(nodes.map((n) => [n.id, n.name]));
  return {
    id: topic.id,
    name: topic.name,
    kind: topic.kind,
    retentionHours: topic.retentionHours,
    maxMessageBytes: topic.maxMessageBytes,
    owner: topic.owner,
    createdAt: topic.createdAt.toISOString(),
    queues: queues.map((q) => ({
      id: q.id,
      dbNode: nodeNames.get(q.dbNodeId) ?? String(q.dbNodeId),
      table: q.tableName,
      readable: q.readable,
      writable: q.writable,
      retiringSince: q.retiringSince?.toISOString() ?? null,
    })),
    shrinking: await Promise.all(queues.flatMap((q) => (q.retiringSince ? [describeShrink(ctx, q, q.retiringSince)] : []))),
  };
}

export async function requireTopic(ctx: BrokerContext, name: string): Promise<Topic> {
  const topic = await findTopicByName(ctx.db, name);
  if (!topic) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${name} does not exist`, { topic: name });
  return topic;
}

async function resolveNodeId(ctx: BrokerContext, dbNode: string | undefined): Promise<number | undefined> {
  if (dbNode === undefined) return undefined;
  const node = await findDbNodeByName(ctx.db, dbNode);
  if (!node) throw new BrokerError('DB_NODE_NOT_FOUND', `db node ${dbNode} does not exist`, { dbNode });
  return node.id;
}

/**
 * Makes sure `count` spare tables exist (on `dbNodeId` if given), then runs `allocate` in a
 * transaction that claims them. Another broker may claim the same spares first; then we retry.
 */
async function withSpareQueues<T>(
  ctx: BrokerContext,
  count: number,
  dbNodeId: number | undefined,
  allocate: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const spares = (await listSpareQueues(ctx.db)).filter((q) => dbNodeId === undefined || q.dbNodeId === dbNodeId);
    if (spares.length < count) {
      if (dbNodeId !== undefined) {
        const node = (await listDbNodes(ctx.db)).find((n) => n.id === dbNodeId);
        if (!node) throw new BrokerError('DB_NODE_NOT_FOUND', `db node ${dbNodeId} does not exist`);
        await createSpareQueues(ctx, node, count - spares.length);
      } else {
        await createSpareQueuesOnEmptiestNodes(ctx, count - spares.length);
      }
    }
    try {
      return await ctx.db.transaction(allocate);
    } catch (err) {
      if (err instanceof SparesTaken && attempt < 5) continue;
      throw err;
    }
  }
}

class SparesTaken extends Error {}

async function claimExactly(trx: Knex.Transaction, topicId: number, count: number, dbNodeId: number | undefined): Promise<number[]> {
  const ids = await claimSpareQueues(trx, topicId, count, dbNodeId);
  if (ids.length < count) throw new SparesTaken(`claimed ${ids.length} of ${count} spare queues`);
  return ids;
}

export interface CreateTopicRequest {
  name: string;
  queues: number;
  retentionHours?: number;
  maxMessageBytes?: number;
  owner?: string;
  dbNode?: string;
}

export async function createTopic(ctx: BrokerContext, req: CreateTopicRequest, actor: string, kind: TopicKind = 'normal'): Promise<TopicAnswer> {
  if (await findTopicByName(ctx.db, req.name)) {
    throw new BrokerError('ALREADY_EXISTS', `topic ${req.name} already exists`, { topic: req.name });
  }
  const dbNodeId = await resolveNodeId(ctx, req.dbNode);
  const topicId = await withSpareQueues(ctx, req.queues, dbNodeId, async (trx) => {
    let id: number;
    try {
      id = await insertTopic(trx, {
        name: req.name,
        kind,
        retentionHours: req.retentionHours ?? ctx.config.defaultRetentionHours,
        maxMessageBytes: req.maxMessageBytes ?? ctx.config.defaultMaxMessageBytes,
        owner: req.owner ?? null,
      });
    } catch (err) {
      if (isDuplicate(err)) throw new BrokerError('ALREADY_EXISTS', `topic ${req.name} already exists`, { topic: req.name });
      throw err;
    }
    const queueIds = await claimExactly(trx, id, req.queues, dbNodeId);
    await writeAudit(trx, { actor, action: 'topic.create', target: `topic:${req.name}`, detail: { ...req, kind, queueIds } });
    return id;
  });
  await ctx.catalog.reload();
  return describeTopic(ctx, (await ctx.catalog.topicById(topicId)) ?? (await requireTopic(ctx, req.name)));
}

export async function expandTopic(ctx: BrokerContext, name: string, count: number, actor: string, dbNode?: string): Promise<TopicAnswer> {
  const topic = await requireTopic(ctx, name);
  const dbNodeId = await resolveNodeId(ctx, dbNode);
  const groupIds = await withSpareQueues(ctx, count, dbNodeId, async (trx) => {
    // Lock the topic so two expansions of it serialise (and see each other's queues).
    await trx('topic').where({ id: topic.id }).forUpdate().first('id');
    const queueIds = await claimExactly(trx, topic.id, count, dbNodeId);
    const subscriptions = await subscriptionsOfTopic(trx, topic.id);
    if (subscriptions.length > 0) {
      // New queues join every subscribed group. The queue can't be written to before this
      // transaction commits, so its current MAX(id) is a safe starting offset for all of them.
      const queues = (await queuesOfTopic(trx, topic.id)).filter((q) => queueIds.includes(q.id));
      for (const queue of queues) {
        const start = await queueMaxId(ctx, queue);
        for (const s of subscriptions) await insertOffsetIfMissing(trx, { groupId: s.groupId, queueId: queue.id, topicId: topic.id, committedOffset: start });
      }
    }
    await writeAudit(trx, { actor, action: 'topic.expand', target: `topic:${name}`, detail: { count, dbNode, queueIds } });
    return subscriptions.map((s) => s.groupId);
  });
  await ctx.catalog.reload();
  await rebalanceGroups(ctx, groupIds);
  return describeTopic(ctx, topic);
}

export async function setQueueFlagsOfTopic(
  ctx: BrokerContext,
  name: string,
  queueId: number,
  flags: { readable?: boolean; writable?: boolean },
  actor: string,
): Promise<TopicAnswer> {
  const topic = await requireTopic(ctx, name);
  const groupIds = await ctx.db.transaction(async (trx) => {
    const queue = (await queuesOfTopic(trx, topic.id)).find((q) => q.id === queueId);
    if (!queue) throw new BrokerError('QUEUE_NOT_FOUND', `queue ${queueId} is not part of topic ${name}`, { topic: name, queueId });
    await setQueueFlags(trx, queueId, flags);
    await writeAudit(trx, { actor, action: 'queue.flags', target: `queue:${queueId}`, detail: { topic: name, ...flags } });
    return flags.readable === undefined ? [] : (await subscriptionsOfTopic(trx, topic.id)).map((s) => s.groupId);
  });
  await ctx.catalog.reload();
  await rebalanceGroups(ctx, groupIds);
  return describeTopic(ctx, topic);
}

export async function rebalanceGroups(ctx: BrokerContext, groupIds: readonly number[]): Promise<void> {
  for (const groupId of new Set(groupIds)) {
    const result = await rebalanceGroup(ctx.db, groupId, ctx.config.sessionTimeoutMs);
    if (result && result.moved > 0) ctx.logger.info('rebalanced group', { groupId, generation: result.generation, moved: result.moved });
  }
}
