import { Router } from 'express';
import { BrokerError } from '../../shared/errors';
import { getMessageJson } from '../../shared/messages/sql/get-message-json';
import { nodeTarget } from '../catalog';
import type { BrokerContext } from '../context';
import { checkName, parseId } from '../http/validation';

/** /api/v1/topics: read one stored message back. (Produce itself is a hot route: hot-routes.ts.) */
export function produceRoutes(ctx: BrokerContext): Router {
  const r = Router();

  r.get('/:topic/queues/:queueId/messages/:id', async (req, res) => {
    const topic = checkName('topic', req.params.topic);
    const queueId = parseId('queueId', req.params.queueId);
    const id = parseId('id', req.params.id);
    const view = await ctx.catalog.queue(queueId);
    if (!view || view.topic.name !== topic) {
      throw new BrokerError('QUEUE_NOT_FOUND', `queue ${queueId} is not part of topic ${topic}`, { topic, queueId });
    }
    const conn = await ctx.nodes.get(nodeTarget(view.node));
    const message = await getMessageJson(conn.pool, view.queue.tableName, id, topic, queueId);
    if (!message) throw new BrokerError('MESSAGE_NOT_FOUND', `no message ${id} in queue ${queueId}`, { topic, queueId, id });
    res.type('application/json').send(message);
  });

  return r;
}
