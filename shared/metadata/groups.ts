import type { Knex } from 'knex';
import type { ConsumerGroup, GroupMode, StartFrom, Subscription } from './rows';

type Db = Knex | Knex.Transaction;

interface GroupRecord {
  id: number;
  name: string;
  mode: GroupMode;
  paused: number;
  max_retries: number;
  generation: number;
  created_at: Date;
}

interface SubscriptionRecord {
  id: number;
  consumer_group_id: number;
  topic_id: number;
  start_from: StartFrom;
  tags: string | null;
  max_retries: number | null;
  retry_topic_id: number | null;
  dead_topic_id: number | null;
  backoff_ms: string | null;
  max_lag: number | string | null;
  created_at: Date;
}

const toGroup = (r: GroupRecord): ConsumerGroup => ({
  id: r.id,
  name: r.name,
  mode: r.mode,
  paused: Boolean(r.paused),
  maxRetries: r.max_retries,
  generation: Number(r.generation),
  createdAt: r.created_at,
});

const toSubscription = (r: SubscriptionRecord): Subscription => ({
  id: r.id,
  groupId: r.consumer_group_id,
  topicId: r.topic_id,
  startFrom: r.start_from,
  tags: r.tags === null ? null : (JSON.parse(r.tags) as string[]),
  maxRetries: r.max_retries,
  retryTopicId: r.retry_topic_id,
  deadTopicId: r.dead_topic_id,
  backoffMs: r.backoff_ms === null ? null : (JSON.parse(r.backoff_ms) as number[]),
  maxLag: r.max_lag === null ? null : Number(r.max_lag),
  createdAt: r.created_at,
});

export async function insertGroup(db: Db, group: { name: string; mode: GroupMode; maxRetries: number }): Promise<number> {
  const [id] = await db('consumer_group').insert({ name: group.name, mode: group.mode, max_retries: group.maxRetries });
  return Number(id);
}

export async function findGroupById(db: Db, id: number): Promise<ConsumerGroup | undefined> {
  const row: GroupRecord | undefined = await db('consumer_group').where({ id }).first();
  return row && toGroup(row);
}

export async function findGroupByName(db: Db, name: string): Promise<ConsumerGroup | undefined> {
  const row: GroupRecord | undefined = await db('consumer_group').where({ name }).first();
  return row && toGroup(row);
}

export async function listGroups(db: Db): Promise<ConsumerGroup[]> {
  const rows: GroupRecord[] = await db('consumer_group').select('*').orderBy('id');
  return rows.map(toGroup);
}

/** Serialises every membership, assignment and offset-reset change of one group across all brokers. */
export async function lockGroup(trx: Knex.Transaction, groupId: number): Promise<ConsumerGroup | undefined> {
  const row: GroupRecord | undefined = await trx('consumer_group').where({ id: groupId }).forUpdate().first();
  return row && toGroup(row);
}

/** Bumps and returns the group's generation (call with the group row locked). */
export async function bumpGeneration(trx: Knex.Transaction, groupId: number): Promise<number> {
  await trx('consumer_group').where({ id: groupId }).increment('generation', 1);
  const row: { generation: number } | undefined = await trx('consumer_group').where({ id: groupId }).first('generation');
  return Number(row?.generation ?? 0);
}

export async function setGroupPaused(db: Db, groupId: number, paused: boolean): Promise<void> {
  await db('consumer_group').where({ id: groupId }).update({ paused });
}

// ---- subscriptions ----

export interface NewSubscription {
  groupId: number;
  topicId: number;
  startFrom: StartFrom;
  tags: string[] | null;
  maxRetries: number | null;
  retryTopicId?: number | null;
  deadTopicId?: number | null;
  backoffMs?: number[] | null;
  maxLag?: number | null;
}

export async function insertSubscription(db: Db, s: NewSubscription): Promise<number> {
  const [id] = await db('subscription').insert({
    consumer_group_id: s.groupId,
    topic_id: s.topicId,
    start_from: s.startFrom,
    tags: s.tags === null ? null : JSON.stringify(s.tags),
    max_retries: s.maxRetries,
    retry_topic_id: s.retryTopicId ?? null,
    dead_topic_id: s.deadTopicId ?? null,
    backoff_ms: s.backoffMs ? JSON.stringify(s.backoffMs) : null,
    max_lag: s.maxLag ?? null,
  });
  return Number(id);
}

export async function subscriptionsOfGroup(db: Db, groupId: number): Promise<Subscription[]> {
  const rows: SubscriptionRecord[] = await db('subscription').where({ consumer_group_id: groupId }).orderBy('id');
  return rows.map(toSubscription);
}

export async function subscriptionsOfTopic(db: Db, topicId: number): Promise<Subscription[]> {
  const rows: SubscriptionRecord[] = await db('subscription').where({ topic_id: topicId }).orderBy('id');
  return rows.map(toSubscription);
}

export async function findSubscription(db: Db, groupId: number, topicId: number): Promise<Subscription | undefined> {
  const row: SubscriptionRecord | undefined = await db('subscription').where({ consumer_group_id: groupId, topic_id: topicId }).first();
  return row && toSubscription(row);
}

/**
 * The subscription whose failure policy applies to messages read from `topicId` by the group: the
 * one that owns it as its retry topic, else the group's own subscription to it.
 */
export async function failurePolicyFor(db: Db, groupId: number, topicId: number): Promise<Subscription | undefined> {
  const viaRetry: SubscriptionRecord | undefined = await db('subscription').where({ consumer_group_id: groupId, retry_topic_id: topicId }).first();
  if (viaRetry) return toSubscription(viaRetry);
  const direct: SubscriptionRecord | undefined = await db('subscription').where({ consumer_group_id: groupId, topic_id: topicId }).first();
  return direct && toSubscription(direct);
}

export async function allSubscriptions(db: Db): Promise<Subscription[]> {
  const rows: SubscriptionRecord[] = await db('subscription').select('*').orderBy('id');
  return rows.map(toSubscription);
}

export async function updateGroupMaxRetries(db: Db, groupId: number, maxRetries: number): Promise<void> {
  await db('consumer_group').where({ id: groupId }).update({ max_retries: maxRetries });
}

/** The group row itself (its consumers, offsets, failures and subscriptions must be gone). */
export async function deleteGroupRow(trx: Knex.Transaction, groupId: number): Promise<void> {
  await trx('consumer_group').where({ id: groupId }).delete();
}

/** A subscription's changeable settings; null clears one back to its default. */
export interface SubscriptionPatch {
  tags?: string[] | null;
  maxRetries?: number | null;
  backoffMs?: number[] | null;
  maxLag?: number | null;
}

export async function updateSubscription(db: Db, subscriptionId: number, patch: SubscriptionPatch): Promise<void> {
  const row: Record<string, unknown> = {};
  if (patch.tags !== undefined) row.tags = patch.tags === null ? null : JSON.stringify(patch.tags);
  if (patch.maxRetries !== undefined) row.max_retries = patch.maxRetries;
  if (patch.backoffMs !== undefined) row.backoff_ms = patch.backoffMs === null ? null : JSON.stringify(patch.backoffMs);
  if (patch.maxLag !== undefined) row.max_lag = patch.maxLag;
  if (Object.keys(row).length > 0) await db('subscription').where({ id: subscriptionId }).update(row);
}

export async function deleteSubscriptionRow(trx: Knex.Transaction, subscriptionId: number): Promise<void> {
  await trx('subscription').where({ id: subscriptionId }).delete();
}

/** Subscriptions that use the topic as their retry or dead topic. */
export async function subscriptionsUsingSideTopic(db: Db, topicId: number): Promise<Subscription[]> {
  const rows: SubscriptionRecord[] = await db('subscription')
    .where({ retry_topic_id: topicId })
    .orWhere({ dead_topic_id: topicId })
    .orderBy('id');
  return rows.map(toSubscription);
}
