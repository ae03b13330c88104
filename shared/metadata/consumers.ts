import type { Knex } from 'knex';
import type { Consumer } from './rows';

type Db = Knex | Knex.Transaction;

interface ConsumerRecord {
  id: number;
  consumer_group_id: number;
  name: string;
  host: string | null;
  heartbeat_at: Date;
  created_at: Date;
  alive?: number;
}

const toConsumer = (r: ConsumerRecord): Consumer => ({
  id: Number(r.id),
  groupId: r.consumer_group_id,
  name: r.name,
  host: r.host,
  heartbeatAt: r.heartbeat_at,
  createdAt: r.created_at,
});

/** "Alive" is judged by the metadata DB's clock, so brokers with skewed clocks agree. */
const aliveSql = (db: Db, timeoutMs: number) =>
  db.raw('heartbeat_at >= NOW(3) - INTERVAL ? MICROSECOND', [timeoutMs * 1000]);

export async function insertConsumer(db: Db, c: { groupId: number; name: string; host: string | null }): Promise<number> {
  const [id] = await db('consumer').insert({
    consumer_group_id: c.groupId,
    name: c.name,
    host: c.host,
    heartbeat_at: db.raw('NOW(3)'),
  });
  return Number(id);
}

export async function findConsumerByName(db: Db, groupId: number, name: string, timeoutMs: number): Promise<(Consumer & { alive: boolean }) | undefined> {
  const row: ConsumerRecord | undefined = await db('consumer')
    .select('*', db.raw(`(${aliveSql(db, timeoutMs).toQuery()}) AS alive`))
    .where({ consumer_group_id: groupId, name })
    .first();
  return row && { ...toConsumer(row), alive: Boolean(row.alive) };
}

/** The consumer if it exists in the group and is alive; undefined otherwise. */
export async function findLiveConsumer(db: Db, groupId: number, consumerId: number, timeoutMs: number): Promise<Consumer | undefined> {
  const row: ConsumerRecord | undefined = await db('consumer')
    .where({ consumer_group_id: groupId, id: consumerId })
    .where(aliveSql(db, timeoutMs))
    .first();
  return row && toConsumer(row);
}

/** Refreshes a live consumer's heartbeat; false when it has expired or does not exist. */
export async function touchConsumer(db: Db, groupId: number, consumerId: number, timeoutMs: number): Promise<boolean> {
  const n = await db('consumer')
    .where({ consumer_group_id: groupId, id: consumerId })
    .where(aliveSql(db, timeoutMs))
    .update({ heartbeat_at: db.raw('NOW(3)') });
  return n > 0;
}

export async function liveConsumerIds(db: Db, groupId: number, timeoutMs: number): Promise<number[]> {
  const rows: { id: number }[] = await db('consumer').select('id').where({ consumer_group_id: groupId }).where(aliveSql(db, timeoutMs)).orderBy('id');
  return rows.map((r) => Number(r.id));
}

export async function consumersOfGroup(db: Db, groupId: number, timeoutMs: number): Promise<(Consumer & { alive: boolean })[]> {
  const rows: ConsumerRecord[] = await db('consumer')
    .select('*', db.raw(`(${aliveSql(db, timeoutMs).toQuery()}) AS alive`))
    .where({ consumer_group_id: groupId })
    .orderBy('id');
  return rows.map((r) => ({ ...toConsumer(r), alive: Boolean(r.alive) }));
}

export async function deleteConsumer(db: Db, groupId: number, consumerId: number): Promise<boolean> {
  return (await db('consumer').where({ consumer_group_id: groupId, id: consumerId }).delete()) > 0;
}

/** Groups that have at least one expired consumer, oldest first. */
export async function groupsWithExpiredConsumers(db: Db, timeoutMs: number): Promise<number[]> {
  const rows: { consumer_group_id: number }[] = await db('consumer')
    .distinct('consumer_group_id')
    .whereNot(aliveSql(db, timeoutMs))
    .orderBy('consumer_group_id');
  return rows.map((r) => r.consumer_group_id);
}

export async function deleteExpiredConsumers(db: Db, groupId: number, timeoutMs: number): Promise<number[]> {
  const rows: { id: number }[] = await db('consumer').select('id').where({ consumer_group_id: groupId }).whereNot(aliveSql(db, timeoutMs));
  const ids = rows.map((r) => Number(r.id));
  if (ids.length > 0) await db('consumer').whereIn('id', ids).delete();
  return ids;
}

/** Keeps several live consumers alive in one statement (expired ones stay expired). */
export async function touchConsumers(db: Db, consumerIds: readonly number[], timeoutMs: number): Promise<void> {
  if (consumerIds.length === 0) return;
  await db('consumer').whereIn('id', consumerIds).where(aliveSql(db, timeoutMs)).update({ heartbeat_at: db.raw('NOW(3)') });
}

/**
 * For each given consumer that still exists: whether it is alive, and its group's generation. One
 * statement, whatever the number of consumers.
 */
export async function consumerStates(db: Db, consumerIds: readonly number[], timeoutMs: number): Promise<Map<number, { alive: boolean; generation: number }>> {
  const out = new Map<number, { alive: boolean; generation: number }>();
  if (consumerIds.length === 0) return out;
  const rows: { id: number | string; alive: number; generation: number | string }[] = await db('consumer as c')
    .join('consumer_group as g', 'g.id', 'c.consumer_group_id')
    .whereIn('c.id', consumerIds)
    .select('c.id', db.raw(`(${aliveSql(db, timeoutMs).toQuery()}) AS alive`), 'g.generation');
  for (const r of rows) out.set(Number(r.id), { alive: Boolean(Number(r.alive)), generation: Number(r.generation) });
  return out;
}

export async function deleteConsumersOfGroup(trx: Knex.Transaction, groupId: number): Promise<void> {
  await trx('consumer').where({ consumer_group_id: groupId }).delete();
}
