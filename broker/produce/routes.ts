import { Router } from 'express';
import { BrokerError } from '../../shared/errors';
import { getMessage } from '../../shared/messages/message-store';
import { nodeTarget } from '../catalog';
import type { BrokerContext } from '../context';
import { checkName, parseId, validator } from '../http/validation';
import { messageJson } from '../messages-json';
import type { Producer } from './producer';
import { produceSchema, type ProduceBody } from './schemas';

const checkProduce = validator<ProduceBody>(produceSchema);

/** /api/v1/topics: produce, and read one stored message back. */
export function produceRoutes(ctx: BrokerContext, producer: Producer): Router {
  const r = Router();

  r.post('/:topic/messages', async (req, res) => {
    const topic = checkName('topic', req.params.topic);
    const body = req.body as unknown;
    // Count before schema: a huge array is a 413, and is not worth validating item by item.
    if (typeof body === 'object' && body !== null && Array.isArray((body as { messages?: unknown }).messages)) {
      const count = (body as { messages: unknown[] }).messages.length;
      if (count > ctx.config.maxMessagesPerRequest) {
        throw new BrokerError('TOO_MANY_MESSAGES', `a request may carry at most ${ctx.config.maxMessagesPerRequest} messages`, {
          count,
          limit: ctx.config.maxMessagesPerRequest,
        });
      }
    }
    const { messages } = checkProduce(body);
    const results = await producer.produce(topic, messages);
    res.status(201).json({ results });
  });

  r.get('/:topic/queues/:queueId/messages/:id', async (req, res) => {
    const topic = checkName('topic', req.params.topic);
    const queueId = parseId('queueId', req.params.queueId);
    const id = parseId('id', req.params.id);
    const view = await ctx.catalog.queue(queueId);
    if (!view || view.topic.name !== topic) {
      throw new BrokerError('QUEUE_NOT_FOUND', `queue ${queueId} is not part of topic ${topic}`, { topic, queueId });
    }
    const conn = await ctx.nodes.get(nodeTarget(view.node));
    const message = await getMessage(conn.pool, view.queue.tableName, id);
    if (!message) throw new BrokerError('MESSAGE_NOT_FOUND', `no message ${id} in queue ${queueId}`, { topic, queueId, id });
    res.type('application/json').send(messageJson(topic, queueId, message));
  });

  return r;
}
