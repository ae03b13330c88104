import type { Knex } from 'knex';
import { fromColumns, toColumns, type MessageColumns, type NewMessage } from '../messages/message';

type Db = Knex | Knex.Transaction;

/** A message waiting for its due time; moved into `topicId` by the scheduler. */
export interface ScheduledMessage extends NewMessage {
  id: number;
  topicId: number;
  dueAt: Date;
  body: Buffer;
}

/** A message to park: the fields of a queue row, its target topic and when it is due. */
export interface NewScheduledMessage extends NewMessage {
  topicId: number;
  /** Either a delay from now by the metadata DB's clock, or an absolute time. */
  delayMs?: number;
  dueAt?: Date;
}

interface ScheduledRecord extends MessageColumns {
  id: number;
  topic_id: number;
  due_at: Date;
  body: Buffer;
}

/**
 * One multi-row INSERT; returns each row's id and due time. Delays count from the metadata DB's
 * clock, read in the same call, so brokers with skewed clocks schedule alike.
 */
export async function insertScheduled(db: Db, rows: readonly NewScheduledMessage[]): Promise<{ id: number; dueAt: Date }[]> {
  if (rows.length === 0) return [];
  const [clock] = (await db.raw('SELECT NOW(3) AS now, @@auto_increment_increment AS step')) as [{ now: Date; step: number }[]];
  const now = clock[0]!.now.getTime();
  const step = Number(clock[0]!.step);
  const dueTimes = rows.map((r) => r.dueAt ?? new Date(now + Math.max(0, r.delayMs ?? 0)));
  const [first] = await db('scheduled_message').insert(
    rows.map((r, i) => ({ topic_id: r.topicId, due_at: dueTimes[i], ...toColumns(r) })),
  );
  // A simple multi-row INSERT gets consecutive ids (stepping by auto_increment_increment).
  return dueTimes.map((dueAt, i) => ({ id: Number(first) + i * step, dueAt }));
}

/**
 * Whether anything is due, by a plain read of the (due_at, id) index: the scheduler polls several
 * times a second on every broker, and a locking transaction per poll cost an idle broker about a
 * tenth of a core on this machine.
 */
export async function anythingDue(db: Db): Promise<boolean> {
  const [rows] = (await db.raw('SELECT 1 AS due FROM scheduled_message WHERE due_at <= NOW(3) LIMIT 1')) as [unknown[]];
  return rows.length > 0;
}

/**
 * Due messages, earliest first, locked for this scheduler; SKIP LOCKED lets every broker run a
 * scheduler without two of them moving the same row.
 */
export async function claimDueMessages(trx: Knex.Transaction, limit: number): Promise<ScheduledMessage[]> {
  const rows: ScheduledRecord[] = await trx('scheduled_message')
    .select('*')
    .where('due_at', '<=', trx.raw('NOW(3)'))
    .orderBy([{ column: 'due_at' }, { column: 'id' }])
    .limit(limit)
    .forUpdate()
    .skipLocked();
  return rows.map((r) => ({ id: Number(r.id), topicId: r.topic_id, dueAt: r.due_at, ...fromColumns(r) }));
}

export async function deleteScheduled(trx: Knex.Transaction, ids: readonly number[]): Promise<void> {
  if (ids.length > 0) await trx('scheduled_message').whereIn('id', ids).delete();
}

/** A row that failed to deliver waits 1 s, then 2 s, 4 s … up to 5 minutes before the next try. */
export const POSTPONE_FIRST_MS = 1_000;
export const POSTPONE_MAX_MS = 300_000;

/**
 * Puts off rows that could not be delivered (see the scheduler): each by its own backoff, from
 * the metadata DB's clock, counting the attempt and keeping why it failed.
 */
export async function postponeScheduled(trx: Knex.Transaction, ids: readonly number[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  // due_at is set first: MySQL evaluates SET left to right, so it still sees the old attempts.
  await trx('scheduled_message')
    .whereIn('id', ids)
    .update({
      due_at: trx.raw('NOW(3) + INTERVAL LEAST(?, ? * POW(2, LEAST(attempts, 20))) * 1000 MICROSECOND', [POSTPONE_MAX_MS, POSTPONE_FIRST_MS]),
      attempts: trx.raw('attempts + 1'),
      last_error: reason.slice(0, 500),
    });
}

/** What waits in the schedule for one topic; `postponed` rows failed to deliver at least once. */
export interface ScheduledSummary {
  topicId: number;
  waiting: number;
  postponed: number;
  maxAttempts: number;
  /** When the earliest postponed row is tried next. */
  nextAttemptAt: Date | null;
  lastError: string | null;
}

export async function summarizeScheduled(db: Db): Promise<ScheduledSummary[]> {
  const [rows] = (await db.raw(
    `SELECT s.topic_id, COUNT(*) AS waiting, SUM(s.attempts > 0) AS postponed, MAX(s.attempts) AS max_attempts,
            MIN(CASE WHEN s.attempts > 0 THEN s.due_at END) AS next_attempt_at,
            (SELECT e.last_error FROM scheduled_message e WHERE e.topic_id = s.topic_id AND e.attempts > 0 ORDER BY e.id DESC LIMIT 1) AS last_error
       FROM scheduled_message s GROUP BY s.topic_id ORDER BY s.topic_id`,
  )) as [{ topic_id: number; waiting: number | string; postponed: number | string | null; max_attempts: number; next_attempt_at: Date | null; last_error: string | null }[]];
  return rows.map((r) => ({
    topicId: r.topic_id,
    waiting: Number(r.waiting),
    postponed: Number(r.postponed ?? 0),
    maxAttempts: Number(r.max_attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
  }));
}

/** What the schedule holds: parked messages, how many are due, and how long the oldest due one has waited. */
export interface ScheduleBacklog {
  parked: number;
  due: number;
  oldestDueAgeMs: number;
}

/** One read of the whole schedule (the backlog gauges; cached by the caller). Ages by the metadata DB's clock. */
export async function scheduleBacklog(db: Db): Promise<ScheduleBacklog> {
  const [rows] = (await db.raw(
    'SELECT COUNT(*) AS parked, COALESCE(SUM(due_at <= NOW(3)), 0) AS due, ' +
      'GREATEST(0, COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(due_at), NOW(3)), 0)) AS oldest_us FROM scheduled_message',
  )) as [{ parked: number | string; due: number | string; oldest_us: number | string }[]];
  const row = rows[0];
  return { parked: Number(row?.parked ?? 0), due: Number(row?.due ?? 0), oldestDueAgeMs: Number(row?.oldest_us ?? 0) / 1000 };
}

// ---- failures ----

/**
 * Records that a group failed a message. Returns false when it was already recorded (the same
 * failure reported twice), in which case the caller must not schedule another retry.
 */
export async function recordFailure(
  trx: Knex.Transaction,
  f: { groupId: number; queueId: number; messageId: number; retryCount: number; outcome: 'retry' | 'dead'; reason: string | null },
): Promise<boolean> {
  const [result] = (await trx.raw(
    'INSERT IGNORE INTO failed_message (consumer_group_id, queue_id, message_id, retry_count, outcome, reason) VALUES (?, ?, ?, ?, ?, ?)',
    [f.groupId, f.queueId, f.messageId, f.retryCount, f.outcome, f.reason],
  )) as [{ affectedRows: number }];
  return result.affectedRows === 1;
}

/** Drops the delayed messages waiting to enter a topic (the topic is being deleted). */
export async function deleteScheduledOfTopic(trx: Knex.Transaction, topicId: number): Promise<number> {
  return trx('scheduled_message').where({ topic_id: topicId }).delete();
}

/** Drops failure records of queues leaving their topic: their ids will mean other messages. */
export async function deleteFailuresOfQueues(trx: Knex.Transaction, queueIds: readonly number[], groupId?: number): Promise<void> {
  if (queueIds.length === 0) return;
  const q = trx('failed_message').whereIn('queue_id', queueIds);
  if (groupId !== undefined) q.where({ consumer_group_id: groupId });
  await q.delete();
}

export async function deleteFailuresOfGroup(trx: Knex.Transaction, groupId: number): Promise<void> {
  await trx('failed_message').where({ consumer_group_id: groupId }).delete();
}
