import type { IncomingMessage, ServerResponse } from 'node:http';
import { BrokerError } from '../shared/errors';
import type { BrokerContext } from './context';
import { checkProduce } from './auth/guards';
import { commit, type CommitRequest } from './consume/commit';
import { pull, type PullRequest } from './consume/pull';
import { commitSchema, pullSchema } from './consume/schemas';
import { beginRequest } from './http/request-context';
import { nameRoute, type ApiRoute } from './http/route-table';
import { parseJson, readJsonBody, readJsonText, sendError, sendJson } from './http/raw-json';
import { bodyTexts } from './produce/body-text';
import { checkName, decodePathSegment, parseId, validator } from './http/validation';
import type { Producer } from './produce/producer';
import { produceSchema, type ProduceBody } from './produce/schemas';

/**
 * The table entries of the hot routes: they document them (openapi.ts) and name them in the
 * latency histogram; the dispatcher below matches their paths.
 */
export const HOT_ROUTES = {
  produce: {
    method: 'post',
    path: '/api/v1/topics/:topic/messages',
    tag: 'produce',
    summary: 'Produce messages: each lands in one queue of the topic (by key, else round-robin); answers their queues and ids once committed',
    body: produceSchema,
    status: 201,
    example: { request: { messages: [{ body: { orderId: 42 }, key: 'customer-7', tag: 'created' }] }, response: { results: [{ queueId: 2, id: 17 }] } },
  },
  pull: {
    method: 'post',
    path: '/api/v1/groups/:group/consumers/:id/pull',
    tag: 'consumers',
    summary: "Pull up to `max` messages from the consumer's queues, long-polling up to `waitMs` when none is ready",
    body: pullSchema,
    bodyOptional: true,
    example: {
      request: { max: 100, waitMs: 5000 },
      response: { generation: 1, messages: [{ topic: 'orders', queueId: 1, id: 1, body: { orderId: 42 }, key: null, tag: null, retryCount: 0, createdAt: '2026-11-23T01:27:47.457Z' }], positions: [{ queueId: 1, offset: 1 }] },
    },
  },
  commit: {
    method: 'post',
    path: '/api/v1/groups/:group/consumers/:id/commit',
    tag: 'consumers',
    summary: 'Commit processed offsets (the `positions` of a pull)',
    body: commitSchema,
    example: { request: { offsets: [{ queueId: 1, offset: 1 }], generation: 1 } },
  },
} as const satisfies Record<string, ApiRoute>;

/** A table path as a regex over the raw URL: each :param one segment, an optional trailing slash and query. */
function pathRegex(path: string): RegExp {
  const source = path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '([^/?#]+)' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?(?:\\?.*)?$`);
}

const check = {
  produce: validator<ProduceBody>(HOT_ROUTES.produce.body),
  pull: validator<PullRequest>(HOT_ROUTES.pull.body),
  commit: validator<CommitRequest>(HOT_ROUTES.commit.body),
};

const PRODUCE = pathRegex(HOT_ROUTES.produce.path);
const PULL = pathRegex(HOT_ROUTES.pull.path);
const COMMIT = pathRegex(HOT_ROUTES.commit.path);

/**
 * The routes that carry the traffic, served on plain node:http (see http/raw-json.ts for why).
 * Returns false for every other request, which then goes to the express app.
 */
export function hotRoutes(ctx: BrokerContext, producer: Producer): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = ctx.config.maxRequestBytes;

  async function produce(topicParam: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const principal = await ctx.auth.authenticate(req.headers.authorization);
    const topic = checkName('topic', decodePathSegment(topicParam));
    await checkProduce(ctx, principal, topic);
    const text = await readJsonText(req, limit);
    const body = text === undefined ? undefined : parseJson(text);
    // Count before schema: a huge array is a 413, and is not worth validating item by item.
    const messages = (body as { messages?: unknown } | null | undefined)?.messages;
    if (Array.isArray(messages) && messages.length > ctx.config.maxMessagesPerRequest) {
      throw new BrokerError('TOO_MANY_MESSAGES', `a request may carry at most ${ctx.config.maxMessagesPerRequest} messages`, {
        count: messages.length,
        limit: ctx.config.maxMessagesPerRequest,
      });
    }
    const { messages: valid } = check.produce(body);
    const results = await producer.produce(topic, valid, text === undefined ? undefined : bodyTexts(text, valid.length));
    sendJson(res, 201, JSON.stringify({ results }));
    if (ctx.logger.isLevelEnabled('debug')) ctx.logger.debug('produce committed', { topic, messages: results.length, queues: [...new Set(results.map((r) => r.queueId))] });
  }

  async function consumerCall(groupParam: string, idParam: string, op: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const principal = await ctx.auth.authenticate(req.headers.authorization);
    const group = checkName('group', decodePathSegment(groupParam));
    principal.requireConsume(group);
    const consumerId = parseId('consumerId', decodePathSegment(idParam));
    const body = (await readJsonBody(req, limit)) ?? {};
    if (op === 'commit') {
      sendJson(res, 200, JSON.stringify(await commit(ctx, group, consumerId, check.commit(body))));
      return;
    }
    // A client that hangs up, or a broker that shuts down, ends the long-poll early.
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.on('close', onClose);
    ctx.closing.addEventListener('abort', onClose, { once: true });
    try {
      const answer = await pull(ctx, group, consumerId, check.pull(body), abort.signal);
      sendJson(res, 200, answer);
      if (ctx.logger.isLevelEnabled('debug')) ctx.logger.debug('pull answered', { group, consumerId, bytes: answer.reduce((n, chunk) => n + chunk.length, 0) });
    } finally {
      res.off('close', onClose);
      ctx.closing.removeEventListener('abort', onClose);
    }
  }

  return (req, res) => {
    if (req.method !== 'POST' || req.url === undefined) return false;
    const url = req.url;
    let work: (() => Promise<void>) | undefined;
    let m: RegExpExecArray | null;
    if ((m = PRODUCE.exec(url))) {
      const topic = m[1]!;
      nameRoute(res, HOT_ROUTES.produce.path);
      work = () => produce(topic, req, res);
    } else {
      for (const op of ['pull', 'commit'] as const) {
        const found = (op === 'pull' ? PULL : COMMIT).exec(url);
        if (!found) continue;
        nameRoute(res, HOT_ROUTES[op].path);
        work = () => consumerCall(found[1]!, found[2]!, op, req, res);
        break;
      }
    }
    if (!work) return false;
    const requestId = beginRequest(ctx.logger, req, res, ctx.metrics.requestSeconds);
    work().catch((err: unknown) => {
      // Drain what the client still sends, so the answer is not cut off by a reset connection.
      if (!req.readableEnded) req.resume();
      sendError(res, err, ctx.logger.child({ requestId }));
    });
    return true;
  };
}
