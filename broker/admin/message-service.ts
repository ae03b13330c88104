import { BrokerError } from '../../shared/errors';
import { writeAudit } from '../../shared/metadata/audit';
import { subscriptionsOfGroup } from '../../shared/metadata/groups';
import type { Queue, Topic } from '../../shared/metadata/rows';
import { insertScheduled } from '../../shared/metadata/schedules';
import { queuesOfTopic } from '../../shared/metadata/topics';
import { copyMessage, type StoredMessage } from '../../shared/messages/message';
import { deleteMessages } from '../../shared/messages/sql/delete-messages';
import { findMessages } from '../../shared/messages/sql/find-messages';
import { getMessage } from '../../shared/messages/sql/get-message';
import { queueConnection } from '../queue-connection';
import type { BrokerContext } from '../context';
import { ORIGIN_HEADERS } from '../consume/fail';
import { requireGroup } from './group-service';
import { requireTopic } from './topic-service';

export interface MessageFilter {
  key?: string;
  from?: Date;
  to?: Date;
}

export interface Page {
  messages: (StoredMessage & { queueId: number })[];
  /** Pass as `after` for the next page; null when there is none. */
  next: string | null;
}

async function poolOf(ctx: BrokerContext, queue: Queue) {
  return (await queueConnection(ctx, queue)).pool;
}

/** Pages through the queues in id order, and through each queue in id order. */
async function pageAcrossQueues(ctx: BrokerContext, queues: Queue[], filter: MessageFilter, limit: number, after?: { queueId: number; id: number }): Promise<Page> {
  const messages: Page['messages'] = [];
  for (const queue of queues) {
    if (after && queue.id < after.queueId) continue;
    const afterId = after && queue.id === after.queueId ? after.id : 0;
    const rows = await findMessages(await poolOf(ctx, queue), queue.tableName, { ...filter, afterId, limit: limit - messages.length + 1 });
    for (const row of rows) {
      if (messages.length === limit) {
        const last = messages[messages.length - 1]!;
        return { messages, next: `${last.queueId}:${last.id}` };
      }
      messages.push({ ...row, queueId: queue.id });
    }
  }
  return { messages, next: null };
}

export async function lookupMessages(
  ctx: BrokerContext,
  topicName: string,
  q: { queueId?: number; id?: number; key?: string; from?: string; to?: string; limit: number; after?: { queueId: number; id: number } },
): Promise<Page & { topic: Topic }> {
  const topic = await requireTopic(ctx, topicName);
  let queues = await queuesOfTopic(ctx.db, topic.id);
  if (q.queueId !== undefined) {
    queues = queues.filter((x) => x.id === q.queueId);
    if (queues.length === 0) throw new BrokerError('QUEUE_NOT_FOUND', `queue ${q.queueId} is not part of topic ${topicName}`, { queueId: q.queueId });
  }
  if (q.id !== undefined) {
    if (q.queueId === undefined) throw new BrokerError('VALIDATION_FAILED', 'id needs queueId');
    const message = await getMessage(await poolOf(ctx, queues[0]!), queues[0]!.tableName, q.id);
    return { topic, messages: message ? [{ ...message, queueId: q.queueId }] : [], next: null };
  }
  const filter: MessageFilter = { key: q.key, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined };
  return { topic, ...(await pageAcrossQueues(ctx, queues, filter, q.limit, q.after)) };
}

/** The group's dead topics: all of them, or the one for `sourceTopic`. */
async function deadTopics(ctx: BrokerContext, groupName: string, sourceTopic?: string): Promise<Topic[]> {
  const group = await requireGroup(ctx, groupName);
  const source = sourceTopic === undefined ? undefined : await requireTopic(ctx, sourceTopic);
  const subs = (await subscriptionsOfGroup(ctx.db, group.id)).filter((s) => s.deadTopicId !== null && (!source || s.topicId === source.id));
  if (source && subs.length === 0) throw new BrokerError('SUBSCRIPTION_NOT_FOUND', `group ${groupName} does not subscribe to ${sourceTopic}`);
  const topics = await Promise.all(subs.map((s) => ctx.catalog.topicById(s.deadTopicId!)));
  return topics.filter((t): t is Topic => t !== undefined);
}

export async function listDeadMessages(ctx: BrokerContext, groupName: string, q: { topic?: string; limit: number; after?: { queueId: number; id: number } }) {
  const out: { deadTopic: string; page: Page }[] = [];
  let remaining = q.limit;
  for (const dead of await deadTopics(ctx, groupName, q.topic)) {
    const page = await pageAcrossQueues(ctx, await queuesOfTopic(ctx.db, dead.id), {}, remaining, q.after);
    out.push({ deadTopic: dead.name, page });
    remaining -= page.messages.length;
    if (remaining <= 0) break;
  }
  return out;
}

export interface DeadSelection {
  topic?: string;
  messages?: { queueId: number; id: number }[];
  all?: boolean;
}

/** Resolves a selection to concrete dead rows, in batches of at most `limit`. */
async function* selectDead(ctx: BrokerContext, groupName: string, sel: DeadSelection, limit = 500) {
  if (!sel.all && !sel.messages) throw new BrokerError('VALIDATION_FAILED', 'give messages or all: true');
  for (const dead of await deadTopics(ctx, groupName, sel.topic)) {
    for (const queue of await queuesOfTopic(ctx.db, dead.id)) {
      const pool = await poolOf(ctx, queue);
      if (sel.messages) {
        const wanted = sel.messages.filter((m) => m.queueId === queue.id);
        const rows = (await Promise.all(wanted.map((m) => getMessage(pool, queue.tableName, m.id)))).filter((m): m is StoredMessage => m !== null);
        if (rows.length > 0) yield { dead, queue, pool, rows };
        continue;
      }
      for (let afterId = 0; ; ) {
        const rows = await findMessages(pool, queue.tableName, { afterId, limit });
        if (rows.length === 0) break;
        yield { dead, queue, pool, rows };
        afterId = rows[rows.length - 1]!.id;
      }
    }
  }
}

/**
 * Sends dead messages back through the group's retry path with their retry count reset: they are
 * scheduled (durably) into the retry topic first, and only then deleted from the dead topic.
 */
export async function resendDead(ctx: BrokerContext, groupName: string, sel: DeadSelection, actor: string) {
  const group = await requireGroup(ctx, groupName);
  const subs = await subscriptionsOfGroup(ctx.db, group.id);
  let resent = 0;
  for await (const { dead, queue, pool, rows } of selectDead(ctx, groupName, sel)) {
    const sub = subs.find((s) => s.deadTopicId === dead.id);
    if (!sub?.retryTopicId) continue;
    await ctx.db.transaction(async (trx) => {
      await insertScheduled(
        trx,
        rows.map((m) => {
          const headers = (m.headers ? JSON.parse(m.headers) : {}) as Record<string, string>;
          delete headers[ORIGIN_HEADERS.reason];
          return { ...copyMessage(m, { headers: JSON.stringify(headers), retryCount: 0 }), topicId: sub.retryTopicId!, delayMs: 0 };
        }),
      );
      await writeAudit(trx, { actor, action: 'dead.resend', target: `group:${groupName}`, detail: { deadTopic: dead.name, queueId: queue.id, ids: rows.map((m) => m.id) } });
    });
    resent += await deleteMessages(pool, queue.tableName, rows.map((m) => m.id));
  }
  return { group: groupName, resent };
}

/**
 * Deletes dead messages. Each batch's audit row is written first, in a metadata transaction that
 * commits only once the rows are deleted: a purge that can't be audited deletes nothing, and a
 * failed delete leaves no audit row behind. (The rows live on a message node, the audit in the
 * metadata DB: only a failure of that COMMIT itself, after the delete, can still lose the row.)
 */
export async function purgeDead(ctx: BrokerContext, groupName: string, sel: DeadSelection, actor: string) {
  let purged = 0;
  for await (const { dead, queue, pool, rows } of selectDead(ctx, groupName, sel)) {
    const ids = rows.map((m) => m.id);
    purged += await ctx.db.transaction(async (trx) => {
      await writeAudit(trx, { actor, action: 'dead.purge', target: `group:${groupName}`, detail: { deadTopic: dead.name, queueId: queue.id, ids } });
      return deleteMessages(pool, queue.tableName, ids);
    });
  }
  return { group: groupName, purged };
}
