import { Router } from 'express';
import type { StoredMessage } from '../../shared/messages/message';
import type { BrokerContext } from '../context';
import { parseCursor, queryValidator } from '../http/query';
import { checkName, validator } from '../http/validation';
import { ORIGIN_HEADERS } from '../consume/fail';
import { messageRefSchema } from '../consume/schemas';
import { actorOf } from './actor';
import { listDeadMessages, lookupMessages, purgeDead, resendDead, type DeadSelection } from './message-service';

const lookupQuery = queryValidator<{ queueId?: number; id?: number; key?: string; from?: string; to?: string; limit: number; after?: string }>({
  type: 'object',
  additionalProperties: false,
  properties: {
    queueId: { type: 'integer', minimum: 1 },
    id: { type: 'integer', minimum: 1 },
    key: { type: 'string', minLength: 1, maxLength: 128 },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    after: { type: 'string', description: 'Cursor from the previous page ("queueId:id")' },
  },
});

const deadQuery = queryValidator<{ topic?: string; limit: number; after?: string }>({
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { type: 'string', description: 'Only the dead topic of this source topic' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    after: { type: 'string' },
  },
});

export const deadSelectionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$', description: 'Only the dead topic of this source topic' },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: messageRefSchema,
    },
    all: { type: 'boolean', description: 'Every dead message (of `topic`, if given)' },
  },
} as const;
const checkSelection = validator<DeadSelection>(deadSelectionSchema);

function messageObject(topic: string, queueId: number, m: StoredMessage) {
  const headers = m.headers ? (JSON.parse(m.headers) as Record<string, string>) : null;
  return {
    topic,
    queueId,
    id: m.id,
    body: JSON.parse(m.body.toString('utf8')) as unknown,
    key: m.key,
    tag: m.tag,
    traceId: m.traceId,
    headers,
    retryCount: m.retryCount,
    createdAt: m.createdAt,
    reason: headers?.[ORIGIN_HEADERS.reason] ?? null,
  };
}

/** Admin message lookups and dead-letter operations (mounted under /api/v1/admin). */
export function messageRoutes(ctx: BrokerContext): Router {
  const r = Router();

  r.get('/topics/:topic/messages', async (req, res) => {
    const q = lookupQuery(req.query);
    const page = await lookupMessages(ctx, checkName('topic', req.params.topic), { ...q, after: parseCursor(q.after) });
    res.json({ messages: page.messages.map((m) => messageObject(page.topic.name, m.queueId, m)), next: page.next });
  });

  r.get('/groups/:group/dead-messages', async (req, res) => {
    const q = deadQuery(req.query);
    const pages = await listDeadMessages(ctx, checkName('group', req.params.group), { topic: q.topic, limit: q.limit, after: parseCursor(q.after) });
    const messages = pages.flatMap((p) => p.page.messages.map((m) => messageObject(p.deadTopic, m.queueId, m)));
    res.json({ messages, next: pages.find((p) => p.page.next !== null)?.page.next ?? null });
  });

  r.post('/groups/:group/dead-messages/resend', async (req, res) => {
    res.json(await resendDead(ctx, checkName('group', req.params.group), checkSelection(req.body), actorOf(req)));
  });

  r.post('/groups/:group/dead-messages/purge', async (req, res) => {
    res.json(await purgeDead(ctx, checkName('group', req.params.group), checkSelection(req.body), actorOf(req)));
  });

  return r;
}
