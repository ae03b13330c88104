import type { IncomingMessage, ServerResponse } from 'node:http';
import { BrokerError } from '../shared/errors';
import type { BrokerContext } from './context';
import { commit, type CommitRequest } from './consume/commit';
import { pull, type PullRequest } from './consume/pull';
import { commitSchema, pullSchema } from './consume/schemas';
import { beginRequest } from './http/request-context';
import { parseJson, readJsonBody, readJsonText, sendError, sendJson } from './http/raw-json';
import { bodyTexts } from './produce/body-text';
import { checkName, decodePathSegment, parseId, validator } from './http/validation';
import type { Producer } from './produce/producer';
import { produceSchema, type ProduceBody } from './produce/schemas';

const check = {
  produce: validator<ProduceBody>(produceSchema),
  pull: validator<PullRequest>(pullSchema),
  commit: validator<CommitRequest>(commitSchema),
};

const PRODUCE = /^\/api\/v1\/topics\/([^/?#]+)\/messages\/?(?:\?.*)?$/;
const CONSUMER_CALL = /^\/api\/v1\/groups\/([^/?#]+)\/consumers\/([^/?#]+)\/(pull|commit)\/?(?:\?.*)?$/;

/**
 * The routes that carry the traffic, served on plain node:http (see http/raw-json.ts for why).
 * Returns false for every other request, which then goes to the express app.
 */
export function hotRoutes(ctx: BrokerContext, producer: Producer): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = ctx.config.maxRequestBytes;

  async function produce(topicParam: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const topic = checkName('topic', decodePathSegment(topicParam));
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
  }

  async function consumerCall(groupParam: string, idParam: string, op: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const group = checkName('group', decodePathSegment(groupParam));
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
      sendJson(res, 200, await pull(ctx, group, consumerId, check.pull(body), abort.signal));
    } finally {
      res.off('close', onClose);
      ctx.closing.removeEventListener('abort', onClose);
    }
  }

  return (req, res) => {
    if (req.method !== 'POST' || req.url === undefined) return false;
    const produceMatch = PRODUCE.exec(req.url);
    const consumerMatch = produceMatch ? null : CONSUMER_CALL.exec(req.url);
    if (!produceMatch && !consumerMatch) return false;
    const requestId = beginRequest(ctx.logger, req, res);
    const work = produceMatch ? produce(produceMatch[1]!, req, res) : consumerCall(consumerMatch![1]!, consumerMatch![2]!, consumerMatch![3]!, req, res);
    work.catch((err: unknown) => {
      // Drain what the client still sends, so the answer is not cut off by a reset connection.
      if (!req.readableEnded) req.resume();
      sendError(res, err, ctx.logger.child({ requestId }));
    });
    return true;
  };
}
