import type { Knex } from 'knex';
import { fenceSql } from './fencing';
import type { QueueOffset } from './rows';

type Db = Knex | Knex.Transaction;

interface OffsetRecord {
  consumer_group_id: number;
  queue_id: number;
  topic_id: number;
  consumer_id: number | null;
  committed_offset: number;
  generation: number;
}

const toOffset = (r: OffsetRecord): QueueOffset => ({
  groupId: r.consumer_group_id,
  queueId: r.queue_id,
  topicId: r.topic_id,
  consumerId: r.consumer_id === null ? null : Number(r.consumer_id),
  committedOffset: Number(r.committed_offset),
  generation: Number(r.generation),
});

/** Creates the (group, queue) row if missing; an existing row keeps its offset. */
export async function insertOffsetIfMissing(
  db: Db,
  row: { groupId: number; queueId: number; topicId: number; committedOffset: number },
): Promise<void> {
  await db('queue_offset')
    .insert({
      consumer_group_id: row.groupId,
      queue_id: row.queueId,
      topic_id: row.topicId,
      committed_offset: row.committedOffset,
    })
    .onConflict(['consumer_group_id', 'queue_id'])
    .ignore();
}

export async function offsetsOfGroup(db: Db, groupId: number): Promise<QueueOffset[]> {
  const rows: OffsetRecord[] = await db('queue_offset').where({ consumer_group_id: groupId }).orderBy('queue_id');
  return rows.map(toOffset);
}

/** Moves a queue to a new owner (or none) in a new generation (group row locked by the caller). */
export async function assignQueue(trx: Knex.Transaction, groupId: number, queueId: number, consumerId: number | null, generation: number): Promise<void> {
  await trx('queue_offset')
    .where({ consumer_group_id: groupId, queue_id: queueId })
    .update({ consumer_id: consumerId, generation, updated_at: trx.raw('CURRENT_TIMESTAMP(3)') });
}

/** Admin reset: sets the offset anywhere, fencing commits from before the reset. */
export async function resetOffset(trx: Knex.Transaction, groupId: number, queueId: number, offset: number, generation: number): Promise<void> {
  await trx('queue_offset')
    .where({ consumer_group_id: groupId, queue_id: queueId })
    .update({ committed_offset: offset, generation, updated_at: trx.raw('CURRENT_TIMESTAMP(3)') });
}

/**
 * Fenced, forward-only, all-or-nothing commits of several queues in ONE statement (no transaction
 * round trips on the hot path). Rows change only if the consumer is alive and the fencing rule
 * (fencing.ts) lets every listed queue through; GREATEST keeps an older offset from rewinding a
 * row. Returns the rows matched (mysql2 sets FOUND_ROWS): offsets.length on success, 0 when any
 * queue is fenced or the consumer expired. The aggregate in the derived table keeps it from being
 * merged into the UPDATE (MySQL error 1093) and counts the owned rows before any changes.
 */
export async function commitOffsets(
  db: Db,
  c: { groupId: number; consumerId: number; offsets: readonly { queueId: number; offset: number }[]; seenGeneration: number | null; sessionTimeoutMs: number },
): Promise<number> {
  if (c.offsets.length === 0) return 0;
  const queueIds = c.offsets.map((o) => o.queueId);
  const inList = queueIds.map(() => '?').join(',');
  const fence = fenceSql(c.groupId, c.consumerId, c.seenGeneration);
  const sql =
    `UPDATE queue_offset SET committed_offset = GREATEST(committed_offset, CASE queue_id ${c.offsets.map(() => 'WHEN ? THEN ?').join(' ')} END), ` +
    'updated_at = CURRENT_TIMESTAMP(3) ' +
    `WHERE ${fence.sql} AND queue_id IN (${inList}) ` +
    `AND ? = (SELECT n FROM (SELECT COUNT(*) AS n FROM queue_offset WHERE ${fence.sql} AND queue_id IN (${inList})) AS owned) ` +
    'AND EXISTS (SELECT 1 FROM consumer WHERE id = ? AND consumer_group_id = ? AND heartbeat_at >= NOW(3) - INTERVAL ? MICROSECOND)';
  const params = [
    ...c.offsets.flatMap((o) => [o.queueId, o.offset]),
    ...fence.params,
    ...queueIds,
    c.offsets.length,
    ...fence.params,
    ...queueIds,
    c.consumerId,
    c.groupId,
    c.sessionTimeoutMs * 1000,
  ];
  const [result] = (await db.raw(sql, params)) as [{ affectedRows: number }];
  return result.affectedRows;
}

/** Moves offsets forward without fencing: for a caller that fenced them under the group's lock (lockFence). */
export async function raiseOffsets(trx: Knex.Transaction, groupId: number, offsets: readonly { queueId: number; offset: number }[]): Promise<void> {
  if (offsets.length === 0) return;
  await trx.raw(
    `UPDATE queue_offset SET committed_offset = GREATEST(committed_offset, CASE queue_id ${offsets.map(() => 'WHEN ? THEN ?').join(' ')} END), ` +
      `updated_at = CURRENT_TIMESTAMP(3) WHERE consumer_group_id = ? AND queue_id IN (${offsets.map(() => '?').join(',')})`,
    [...offsets.flatMap((o) => [o.queueId, o.offset]), groupId, ...offsets.map((o) => o.queueId)],
  );
}

/** Advances offsets stuck below a queue's retention floor (used after history cleanup). */
export async function raiseOffsetsOfQueue(db: Db, queueId: number, floor: number): Promise<number> {
  return db('queue_offset').where({ queue_id: queueId }).where('committed_offset', '<', floor).update({ committed_offset: floor });
}

/**
 * The lowest committed offset of a queue among the groups that still subscribe to its topic
 * (offset rows of unsubscribed groups linger and must not count); null when no group reads it.
 * History cleanup counts rows above it as deleted before every group consumed them.
 */
export async function minCommittedOffsetOfQueue(db: Db, queueId: number): Promise<number | null> {
  const row: { low?: number | string | null } | undefined = await db('queue_offset as o')
    .join('subscription as s', function () {
      this.on('s.consumer_group_id', '=', 'o.consumer_group_id').andOn('s.topic_id', '=', 'o.topic_id');
    })
    .where('o.queue_id', queueId)
    .min({ low: 'o.committed_offset' })
    .first();
  return row?.low === null || row?.low === undefined ? null : Number(row.low);
}

/**
 * What a pull needs to know about its consumer, in one read: whether it is alive, whether its
 * heartbeat is old enough to be worth refreshing, the queues it owns with their offsets, and the
 * group's generation they belong to.
 * Refreshing only stale heartbeats keeps a write (and its fsync) off most pulls.
 */
export async function consumerStateForPull(
  db: Db,
  c: { groupId: number; consumerId: number; sessionTimeoutMs: number; refreshAfterMs: number },
): Promise<{ alive: boolean; stale: boolean; generation: number; owned: QueueOffset[] } | undefined> {
  const [rows] = (await db.raw(
    'SELECT c.heartbeat_at >= NOW(3) - INTERVAL ? MICROSECOND AS alive, c.heartbeat_at < NOW(3) - INTERVAL ? MICROSECOND AS stale, ' +
      'g.generation AS group_generation, qo.consumer_group_id, qo.queue_id, qo.topic_id, qo.consumer_id, qo.committed_offset, qo.generation ' +
      'FROM consumer c JOIN consumer_group g ON g.id = c.consumer_group_id ' +
      'LEFT JOIN queue_offset qo ON qo.consumer_group_id = c.consumer_group_id AND qo.consumer_id = c.id ' +
      'WHERE c.id = ? AND c.consumer_group_id = ? ORDER BY qo.queue_id',
    [c.sessionTimeoutMs * 1000, c.refreshAfterMs * 1000, c.consumerId, c.groupId],
  )) as [(OffsetRecord & { alive: number; stale: number; group_generation: number; queue_id: number | null })[]];
  const first = rows[0];
  if (!first) return undefined;
  return {
    alive: Boolean(first.alive),
    stale: Boolean(first.stale),
    generation: Number(first.group_generation),
    owned: rows.filter((r) => r.queue_id !== null).map(toOffset),
  };
}

/** What a consumer may act on, read under the group's lock (see lockFence). */
export interface FenceState {
  alive: boolean;
  /** The group's generation now. */
  generation: number;
  /** The group's rows of the queues asked about (a queue the group does not read has none). */
  rows: Map<number, QueueOffset>;
}

/**
 * Reads, inside `trx`, what the fencing rule needs for `queueIds`, holding the group row in share
 * mode: rebalances and resets take it exclusively, so ownership cannot change until `trx` ends,
 * while other commits and fails of the group go on.
 */
export async function lockFence(
  trx: Knex.Transaction,
  c: { groupId: number; consumerId: number; queueIds: readonly number[]; sessionTimeoutMs: number },
): Promise<FenceState | undefined> {
  const group: { generation: number } | undefined = await trx('consumer_group').where({ id: c.groupId }).forShare().first('generation');
  if (!group) return undefined;
  const alive = await trx('consumer')
    .where({ id: c.consumerId, consumer_group_id: c.groupId })
    .where(trx.raw('heartbeat_at >= NOW(3) - INTERVAL ? MICROSECOND', [c.sessionTimeoutMs * 1000]))
    .first('id');
  const rows: OffsetRecord[] = c.queueIds.length === 0 ? [] : await trx('queue_offset').where({ consumer_group_id: c.groupId }).whereIn('queue_id', [...c.queueIds]);
  return { alive: alive !== undefined, generation: Number(group.generation), rows: new Map(rows.map((r) => [r.queue_id, toOffset(r)])) };
}

/** The group's generation with the queues a consumer owns, read together (one statement). */
export async function assignmentOf(db: Db, groupId: number, consumerId: number): Promise<{ generation: number; owned: QueueOffset[] } | undefined> {
  const [rows] = (await db.raw(
    'SELECT g.generation AS group_generation, qo.consumer_group_id, qo.queue_id, qo.topic_id, qo.consumer_id, qo.committed_offset, qo.generation ' +
      'FROM consumer_group g LEFT JOIN queue_offset qo ON qo.consumer_group_id = g.id AND qo.consumer_id = ? WHERE g.id = ? ORDER BY qo.queue_id',
    [consumerId, groupId],
  )) as [(OffsetRecord & { group_generation: number; queue_id: number | null })[]];
  const first = rows[0];
  if (!first) return undefined;
  return { generation: Number(first.group_generation), owned: rows.filter((r) => r.queue_id !== null).map(toOffset) };
}

/**
 * Every group's committed offset of every queue its subscriptions cover (lingering rows of
 * unsubscribed groups left out), with the group's name: the input of the lag gauge.
 */
export async function subscribedOffsets(db: Db): Promise<{ group: string; queueId: number; committedOffset: number }[]> {
  const rows: { name: string; queue_id: number; committed_offset: number | string }[] = await db('queue_offset as o')
    .join('consumer_group as g', 'g.id', 'o.consumer_group_id')
    .join('subscription as s', function () {
      this.on('s.consumer_group_id', '=', 'o.consumer_group_id').andOn('s.topic_id', '=', 'o.topic_id');
    })
    .select('g.name', 'o.queue_id', 'o.committed_offset');
  return rows.map((r) => ({ group: r.name, queueId: r.queue_id, committedOffset: Number(r.committed_offset) }));
}

/** Drops every group's offset row of these queues (they are leaving their topic). */
export async function deleteOffsetsOfQueues(trx: Knex.Transaction, queueIds: readonly number[]): Promise<void> {
  if (queueIds.length > 0) await trx('queue_offset').whereIn('queue_id', queueIds).delete();
}

/** Drops a group's offset rows of one topic (unsubscribe). */
export async function deleteOffsetsOfGroupTopic(trx: Knex.Transaction, groupId: number, topicId: number): Promise<void> {
  await trx('queue_offset').where({ consumer_group_id: groupId, topic_id: topicId }).delete();
}

export async function deleteOffsetsOfGroup(trx: Knex.Transaction, groupId: number): Promise<void> {
  await trx('queue_offset').where({ consumer_group_id: groupId }).delete();
}

/** Each subscribed group's committed offset of a queue (groups that only linger don't count). */
export async function subscribedOffsetsOfQueue(db: Db, queueId: number): Promise<{ groupId: number; committedOffset: number }[]> {
  const rows: { consumer_group_id: number; committed_offset: number | string }[] = await db('queue_offset as o')
    .join('subscription as s', function () {
      this.on('s.consumer_group_id', '=', 'o.consumer_group_id').andOn('s.topic_id', '=', 'o.topic_id');
    })
    .where('o.queue_id', queueId)
    .select('o.consumer_group_id', 'o.committed_offset')
    .orderBy('o.consumer_group_id');
  return rows.map((r) => ({ groupId: r.consumer_group_id, committedOffset: Number(r.committed_offset) }));
}
