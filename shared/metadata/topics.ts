import type { Knex } from 'knex';
import type { Queue, Topic, TopicKind } from './rows';

type Db = Knex | Knex.Transaction;

interface TopicRecord {
  id: number;
  name: string;
  kind: TopicKind;
  retention_hours: number;
  max_message_bytes: number;
  owner: string | null;
  created_at: Date;
}

interface QueueRecord {
  id: number;
  db_node_id: number;
  table_name: string;
  topic_id: number | null;
  readable: number;
  writable: number;
  retiring_since: Date | null;
  shrink_forced: number;
}

const toTopic = (r: TopicRecord): Topic => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  retentionHours: r.retention_hours,
  maxMessageBytes: r.max_message_bytes,
  owner: r.owner,
  createdAt: r.created_at,
});

const toQueue = (r: QueueRecord): Queue => ({
  id: r.id,
  dbNodeId: r.db_node_id,
  tableName: r.table_name,
  topicId: r.topic_id,
  readable: Boolean(r.readable),
  writable: Boolean(r.writable),
  retiringSince: r.retiring_since,
  shrinkForced: Boolean(r.shrink_forced),
});

export interface NewTopic {
  name: string;
  kind: TopicKind;
  retentionHours: number;
  maxMessageBytes: number;
  owner: string | null;
}

export async function insertTopic(db: Db, topic: NewTopic): Promise<number> {
  const [id] = await db('topic').insert({
    name: topic.name,
    kind: topic.kind,
    retention_hours: topic.retentionHours,
    max_message_bytes: topic.maxMessageBytes,
    owner: topic.owner,
  });
  return Number(id);
}

export async function findTopicByName(db: Db, name: string): Promise<Topic | undefined> {
  const row: TopicRecord | undefined = await db('topic').where({ name }).first();
  return row && toTopic(row);
}

export async function findTopicById(db: Db, id: number): Promise<Topic | undefined> {
  const row: TopicRecord | undefined = await db('topic').where({ id }).first();
  return row && toTopic(row);
}

export async function listTopics(db: Db): Promise<Topic[]> {
  const rows: TopicRecord[] = await db('topic').select('*').orderBy('id');
  return rows.map(toTopic);
}

// ---- queues ----

/** Reserves a queue id on a node; the row is "pending" (no table name) until its table exists. */
export async function insertPendingQueue(db: Db, dbNodeId: number): Promise<number> {
  const [id] = await db('queue').insert({ db_node_id: dbNodeId, table_name: null, topic_id: null });
  return Number(id);
}

export async function markQueueTableCreated(db: Db, queueId: number, tableName: string): Promise<void> {
  await db('queue').where({ id: queueId }).update({ table_name: tableName });
}

export async function deletePendingQueue(db: Db, queueId: number): Promise<void> {
  await db('queue').where({ id: queueId }).whereNull('table_name').delete();
}

/** Queues (with tables) of a topic, by id. */
export async function queuesOfTopic(db: Db, topicId: number): Promise<Queue[]> {
  const rows: QueueRecord[] = await db('queue').where({ topic_id: topicId }).whereNotNull('table_name').orderBy('id');
  return rows.map(toQueue);
}

export async function queuesOfTopics(db: Db, topicIds: readonly number[]): Promise<Queue[]> {
  if (topicIds.length === 0) return [];
  const rows: QueueRecord[] = await db('queue').whereIn('topic_id', topicIds).whereNotNull('table_name').orderBy('id');
  return rows.map(toQueue);
}

export async function allAllocatedQueues(db: Db): Promise<Queue[]> {
  const rows: QueueRecord[] = await db('queue').whereNotNull('topic_id').whereNotNull('table_name').orderBy('id');
  return rows.map(toQueue);
}

export async function findQueueById(db: Db, id: number): Promise<Queue | undefined> {
  const row: QueueRecord | undefined = await db('queue').where({ id }).whereNotNull('table_name').first();
  return row && toQueue(row);
}

/** Spare queues: tables that belong to no topic and were emptied since they last held one. */
export async function listSpareQueues(db: Db): Promise<Queue[]> {
  const rows: QueueRecord[] = await db('queue').whereNull('topic_id').whereNotNull('table_name').whereNull('released_at').orderBy('id');
  return rows.map(toQueue);
}

/**
 * Claims up to `count` spare queues for a topic. SKIP LOCKED lets concurrent topic creations on
 * several brokers take different spares instead of queueing behind each other.
 */
export async function claimSpareQueues(trx: Knex.Transaction, topicId: number, count: number, dbNodeId?: number): Promise<number[]> {
  const q = trx('queue').select('id').whereNull('topic_id').whereNotNull('table_name').whereNull('released_at');
  if (dbNodeId !== undefined) q.where({ db_node_id: dbNodeId });
  const rows: { id: number }[] = await q.orderBy('id').limit(count).forUpdate().skipLocked();
  const ids = rows.map((r) => r.id);
  if (ids.length > 0) await trx('queue').whereIn('id', ids).update({ topic_id: topicId });
  return ids;
}

/** Queue count per node (allocated and spare), for placing new tables on the emptiest node. */
export async function queueCountsByNode(db: Db): Promise<Map<number, number>> {
  const rows: { db_node_id: number; n: number }[] = await db('queue').select('db_node_id').count({ n: '*' }).groupBy('db_node_id');
  return new Map(rows.map((r) => [r.db_node_id, Number(r.n)]));
}

export async function setQueueFlags(db: Db, queueId: number, flags: { readable?: boolean; writable?: boolean }): Promise<void> {
  const patch: Record<string, boolean> = {};
  if (flags.readable !== undefined) patch.readable = flags.readable;
  if (flags.writable !== undefined) patch.writable = flags.writable;
  if (Object.keys(patch).length > 0) await db('queue').where({ id: queueId }).update(patch);
}

export interface TopicPatch {
  retentionHours?: number;
  maxMessageBytes?: number;
  owner?: string | null;
}

export async function updateTopic(db: Db, topicId: number, patch: TopicPatch): Promise<void> {
  const row: Record<string, unknown> = {};
  if (patch.retentionHours !== undefined) row.retention_hours = patch.retentionHours;
  if (patch.maxMessageBytes !== undefined) row.max_message_bytes = patch.maxMessageBytes;
  if (patch.owner !== undefined) row.owner = patch.owner;
  if (Object.keys(row).length > 0) await db('topic').where({ id: topicId }).update(row);
}

/** Locks a topic row, so deletes and shrinks of one topic serialise; undefined when it is gone. */
export async function lockTopic(trx: Knex.Transaction, topicId: number): Promise<Topic | undefined> {
  const row: TopicRecord | undefined = await trx('topic').where({ id: topicId }).forUpdate().first();
  return row && toTopic(row);
}

/** Removes the topic row itself (its queues, offsets, subscriptions and schedules must be gone). */
export async function deleteTopicRow(trx: Knex.Transaction, topicId: number): Promise<void> {
  await trx('topic').where({ id: topicId }).delete();
}

/**
 * Takes queues out of their topic. They are no spares yet: released_at keeps them out of the pool
 * until portal-jobs has emptied them (see emptyReleasedQueue).
 */
export async function releaseQueues(trx: Knex.Transaction, queueIds: readonly number[]): Promise<void> {
  if (queueIds.length === 0) return;
  await trx('queue').whereIn('id', queueIds).update({
    topic_id: null,
    released_at: trx.raw('NOW(3)'),
    retiring_since: null,
    shrink_forced: false,
    readable: true,
    writable: true,
  });
}

/** Starts shrinking: the queues take no more writes and wait to leave their topic. */
export async function markRetiring(trx: Knex.Transaction, queueIds: readonly number[], forced: boolean): Promise<void> {
  if (queueIds.length === 0) return;
  await trx('queue').whereIn('id', queueIds).update({ writable: false, retiring_since: trx.raw('NOW(3)'), shrink_forced: forced });
}

export async function forceRetiring(trx: Knex.Transaction, queueIds: readonly number[]): Promise<void> {
  if (queueIds.length === 0) return;
  await trx('queue').whereIn('id', queueIds).whereNotNull('retiring_since').update({ shrink_forced: true });
}

/**
 * Retiring queues whose last write can no longer be in flight: every broker's catalog has seen
 * them non-writable for `graceMs` by the metadata DB's clock.
 */
export async function retiringQueuesPastGrace(db: Db, graceMs: number): Promise<Queue[]> {
  const rows: QueueRecord[] = await db('queue')
    .whereNotNull('retiring_since')
    .whereNotNull('topic_id')
    .where('retiring_since', '<', db.raw('NOW(3) - INTERVAL ? MICROSECOND', [graceMs * 1000]))
    .orderBy('id');
  return rows.map(toQueue);
}

/** Released queues that no stale broker can still write to (released `graceMs` ago or more). */
export async function releasedQueuesPastGrace(db: Db, graceMs: number): Promise<Queue[]> {
  const rows: QueueRecord[] = await db('queue')
    .whereNotNull('released_at')
    .whereNotNull('table_name')
    .where('released_at', '<', db.raw('NOW(3) - INTERVAL ? MICROSECOND', [graceMs * 1000]))
    .orderBy('id');
  return rows.map(toQueue);
}

/** Back to the spare pool, after its table was emptied. */
export async function markQueueEmptied(db: Db, queueId: number): Promise<void> {
  await db('queue').where({ id: queueId }).whereNull('topic_id').update({ released_at: null });
}

/** Every queue row on a node: allocated, released, spare and pending. */
export async function queueRowsOfNode(db: Db, dbNodeId: number): Promise<{ id: number; tableName: string | null; topicId: number | null; released: boolean }[]> {
  const rows: { id: number; table_name: string | null; topic_id: number | null; released_at: Date | null }[] = await db('queue')
    .select('id', 'table_name', 'topic_id', 'released_at')
    .where({ db_node_id: dbNodeId })
    .orderBy('id');
  return rows.map((r) => ({ id: r.id, tableName: r.table_name, topicId: r.topic_id, released: r.released_at !== null }));
}

export async function deleteQueueRows(trx: Knex.Transaction, queueIds: readonly number[]): Promise<void> {
  if (queueIds.length > 0) await trx('queue').whereIn('id', queueIds).whereNull('topic_id').delete();
}

/** Spare queues per node (emptied, unclaimed), for the capacity alarm. */
export async function spareCountsByNode(db: Db): Promise<Map<number, number>> {
  const rows: { db_node_id: number; n: number }[] = await db('queue')
    .select('db_node_id')
    .count({ n: '*' })
    .whereNull('topic_id')
    .whereNotNull('table_name')
    .whereNull('released_at')
    .groupBy('db_node_id');
  return new Map(rows.map((r) => [r.db_node_id, Number(r.n)]));
}
