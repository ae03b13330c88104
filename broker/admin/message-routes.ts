import type { StoredMessage } from '../../shared/messages/message';
import type { BrokerContext } from '../context';
import { parseCursor } from '../http/query';
import { route, type ApiRoute } from '../http/route-table';
import { checkName } from '../http/validation';
import { ORIGIN_HEADERS } from '../consume/fail';
import { messageRefSchema } from '../consume/schemas';
import { actorOf } from './actor';
import { listDeadMessages, lookupMessages, purgeDead, resendDead, type DeadSelection } from './message-service';

interface LookupQuery { queueId?: number; id?: number; key?: string; from?: string; to?: string; limit: number; after?: string }
const lookupQuerySchema = {
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
} as const;

interface DeadQuery { topic?: string; limit: number; after?: string }
const deadQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { type: 'string', description: 'Only the dead topic of this source topic' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    after: { type: 'string', description: 'Cursor from the previous page ("queueId:id")' },
  },
} as const;

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

/** Admin message lookups and dead-letter operations. */
export function messageRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route<undefined, LookupQuery>({
      method: 'get',
      path: '/api/v1/admin/topics/:topic/messages',
      tag: 'messages',
      summary: 'Look messages of a topic up by queue and id, key or time range, a page at a time',
      query: lookupQuerySchema,
      handler: async (req, res, { query: q }) => {
        const page = await lookupMessages(ctx, checkName('topic', req.params.topic as string), { ...q, after: parseCursor(q.after) });
        res.json({ messages: page.messages.map((m) => messageObject(page.topic.name, m.queueId, m)), next: page.next });
      },
    }),
    route<undefined, DeadQuery>({
      method: 'get',
      path: '/api/v1/admin/groups/:group/dead-messages',
      tag: 'dead messages',
      summary: "A page of a group's dead messages (those that ran out of retries), with the failure reason",
      query: deadQuerySchema,
      handler: async (req, res, { query: q }) => {
        const pages = await listDeadMessages(ctx, checkName('group', req.params.group as string), { topic: q.topic, limit: q.limit, after: parseCursor(q.after) });
        const messages = pages.flatMap((p) => p.page.messages.map((m) => messageObject(p.deadTopic, m.queueId, m)));
        res.json({ messages, next: pages.find((p) => p.page.next !== null)?.page.next ?? null });
      },
    }),
    route<DeadSelection>({
      method: 'post',
      path: '/api/v1/admin/groups/:group/dead-messages/resend',
      tag: 'dead messages',
      summary: 'Send dead messages back to their source topic (retry count reset)',
      body: deadSelectionSchema,
      example: { request: { topic: 'orders', all: true } },
      handler: async (req, res, { body }) => {
        res.json(await resendDead(ctx, checkName('group', req.params.group as string), body, actorOf(req)));
      },
    }),
    route<DeadSelection>({
      method: 'post',
      path: '/api/v1/admin/groups/:group/dead-messages/purge',
      tag: 'dead messages',
      summary: 'Delete dead messages for good',
      body: deadSelectionSchema,
      example: { request: { messages: [{ queueId: 9, id: 3 }] } },
      handler: async (req, res, { body }) => {
        res.json(await purgeDead(ctx, checkName('group', req.params.group as string), body, actorOf(req)));
      },
    }),
  ];
}
