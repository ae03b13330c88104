import { BrokerError } from '../../shared/errors';
import { getMessageJson } from '../../shared/messages/sql/get-message-json';
import { queueConnection } from '../queue-connection';
import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';
import { checkName, parseId } from '../http/validation';

/** Read one stored message back. (Produce itself is a hot route: hot-routes.ts.) */
export function produceRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/topics/:topic/queues/:queueId/messages/:id',
      tag: 'messages',
      summary: 'One stored message by its queue and id',
      example: {
        response: { topic: 'orders', queueId: 2, id: 17, body: { orderId: 42 }, key: 'customer-7', tag: 'created', traceId: 'abc', headers: { source: 'web' }, retryCount: 0, createdAt: '2026-11-23T01:27:47.457Z' },
      },
      handler: async (req, res) => {
        const topic = checkName('topic', req.params.topic as string);
        const queueId = parseId('queueId', req.params.queueId as string);
        const id = parseId('id', req.params.id as string);
        const view = await ctx.catalog.queue(queueId);
        if (!view || view.topic.name !== topic) {
          throw new BrokerError('QUEUE_NOT_FOUND', `queue ${queueId} is not part of topic ${topic}`, { topic, queueId });
        }
        const conn = await queueConnection(ctx, view.queue);
        const message = await getMessageJson(conn.pool, view.queue.tableName, id, topic, queueId);
        if (!message) throw new BrokerError('MESSAGE_NOT_FOUND', `no message ${id} in queue ${queueId}`, { topic, queueId, id });
        res.type('application/json').send(message);
      },
    }),
  ];
}
