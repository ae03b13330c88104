import type { Knex } from 'knex';
import { BrokerError } from '../../shared/errors';
import { retryOnDeadlock } from '../../shared/db/mysql-errors';
import { touchConsumer } from '../../shared/metadata/consumers';
import { failurePolicyFor } from '../../shared/metadata/groups';
import type { ConsumerGroup } from '../../shared/metadata/rows';
import { insertScheduled, recordFailure } from '../../shared/metadata/schedules';
import { copyMessage, type StoredMessage } from '../../shared/messages/message';
import { getMessage } from '../../shared/messages/sql/get-message';
import type { QueueView } from '../catalog';
import { queueConnection } from '../queue-connection';
import type { BrokerContext } from '../context';
import { fence, rebalanced } from './fence';
import { requireGroupForConsumers } from './membership';
import { requireWithinQueue } from './queue-range';

/** Retry delays by retry count: seconds at first, growing to an hour (like RocketMQ's levels). */
export const DEFAULT_BACKOFF_MS = [
  1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000, 480_000, 540_000, 600_000, 1_200_000, 1_800_000, 3_600_000,
];

/** Headers a retried or dead message carries back to its origin. */
export const ORIGIN_HEADERS = {
  topic: 'x-tablemq-origin-topic',
  queue: 'x-tablemq-origin-queue',
  id: 'x-tablemq-origin-id',
  reason: 'x-tablemq-fail-reason',
} as const;

export function backoffFor(retryCount: number, schedule: readonly number[] | null): number {
  const s = schedule && schedule.length > 0 ? schedule : DEFAULT_BACKOFF_MS;
  return s[Math.min(retryCount, s.length) - 1] ?? s[0]!;
}

export interface FailRequest {
  messages: { queueId: number; id: number }[];
  reason?: string;
  generation?: number;
}

interface Failure {
  view: QueueView;
  message: StoredMessage;
}

async function loadFailures(ctx: BrokerContext, req: FailRequest): Promise<Failure[]> {
  const unique = [...new Map(req.messages.map((m) => [`${m.queueId}:${m.id}`, m])).values()];
  return Promise.all(
    unique.map(async ({ queueId, id }) => {
      const view = await ctx.catalog.queue(queueId);
      if (!view) throw new BrokerError('QUEUE_NOT_FOUND', `queue ${queueId} does not exist`, { queueId });
      const conn = await queueConnection(ctx, view.queue);
      await requireWithinQueue(ctx, view, id, 'id');
      const message = await getMessage(conn.pool, view.queue.tableName, id);
      if (!message) throw new BrokerError('MESSAGE_NOT_FOUND', `no message ${id} in queue ${queueId}`, { queueId, id });
      return { view, message };
    }),
  );
}

function originHeaders(f: Failure, reason: string | undefined): string {
  const headers = (f.message.headers ? JSON.parse(f.message.headers) : {}) as Record<string, string>;
  // A message failing again in a retry topic keeps pointing at where it first came from.
  headers[ORIGIN_HEADERS.topic] ??= f.view.topic.name;
  headers[ORIGIN_HEADERS.queue] ??= String(f.view.queue.id);
  headers[ORIGIN_HEADERS.id] ??= String(f.message.id);
  if (reason !== undefined) headers[ORIGIN_HEADERS.reason] = reason.slice(0, 1000);
  return JSON.stringify(headers);
}

async function failOne(trx: Knex.Transaction, group: ConsumerGroup, f: Failure, reason: string | undefined, committedOffset: number) {
  const policy = await failurePolicyFor(trx, group.id, f.view.topic.id);
  if (!policy || policy.retryTopicId === null || policy.deadTopicId === null) {
    throw new BrokerError('CONFLICT', `messages of topic ${f.view.topic.name} have no retry path in group ${group.name}`, { topic: f.view.topic.name });
  }
  const retryCount = f.message.retryCount + 1;
  const maxRetries = policy.maxRetries ?? group.maxRetries;
  const outcome = retryCount > maxRetries ? 'dead' : 'retry';
  const base = { queueId: f.view.queue.id, id: f.message.id, outcome, retryCount: outcome === 'dead' ? f.message.retryCount : retryCount };
  const fresh = await recordFailure(trx, { groupId: group.id, queueId: f.view.queue.id, messageId: f.message.id, retryCount, outcome, reason: reason ?? null });
  if (!fresh) return { ...base, duplicate: true, dueAt: null };
  if (f.message.id <= committedOffset) {
    // Committed past and never reported: processed (or skipped) already; a retry would deliver it twice.
    throw new BrokerError('ALREADY_COMMITTED', `message ${f.message.id} of queue ${f.view.queue.id} is at or below the group's committed offset ${committedOffset}; fail before committing`, {
      queueId: f.view.queue.id,
      id: f.message.id,
      committedOffset,
    });
  }
  const [scheduled] = await insertScheduled(trx, [
    {
      ...copyMessage(f.message, { headers: originHeaders(f, reason), retryCount: base.retryCount }),
      topicId: outcome === 'dead' ? policy.deadTopicId : policy.retryTopicId,
      delayMs: outcome === 'dead' ? 0 : backoffFor(retryCount, policy.backoffMs),
    },
  ]);
  return { ...base, duplicate: false, dueAt: scheduled!.dueAt.toISOString() };
}

/**
 * A consumer reports messages it could not process. Each goes to the group's retry topic with
 * retry_count + 1 after a backoff delay, or to the dead topic once past maxRetries. Fenced like a
 * commit; idempotent (a message reported twice is scheduled once); all-or-nothing. Refused: ids
 * past the queue's last message (400), ids the group committed past without reporting them (409
 * ALREADY_COMMITTED). Whether the consumer was really handed a message between its committed offset
 * and the queue's end is not known to the broker (positions live in the client).
 */
export async function fail(ctx: BrokerContext, groupName: string, consumerId: number, req: FailRequest) {
  const group = await requireGroupForConsumers(ctx, groupName);
  const failures = await loadFailures(ctx, req);
  const results = await retryOnDeadlock(() =>
    ctx.db.transaction(async (trx) => {
      const { rows, fenced } = await fence(ctx, trx, group, consumerId, [...new Set(failures.map((f) => f.view.queue.id))], req.generation ?? null);
      if (fenced.length > 0) throw rebalanced(consumerId, fenced);
      // A fail counts as a heartbeat; after the fence, which takes the group's lock first, as a rebalance does.
      await touchConsumer(trx, group.id, consumerId, ctx.config.sessionTimeoutMs);
      const out = [];
      for (const f of failures) out.push(await failOne(trx, group, f, req.reason, rows.get(f.view.queue.id)!.committedOffset));
      return out;
    }),
  );
  return { failed: results };
}
