import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';
import { checkName, parseId } from '../http/validation';
import { heartbeat, leave, register } from './membership';
import { failSchema, registerSchema } from './schemas';
import { fail, type FailRequest } from './fail';

const CONSUMERS = '/api/v1/groups/:group/consumers';

/**
 * The consumer protocol (register, heartbeat, fail, leave). Pull and commit, the busy calls, are
 * hot routes served by hot-routes.ts.
 */
export function consumeRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route<{ name: string; host?: string }>({
      method: 'post',
      path: CONSUMERS,
      tag: 'consumers',
      summary: 'Register a consumer in a group (idempotent by name); answers its id and assignments',
      body: registerSchema,
      bodyOptional: true,
      status: 201,
      example: {
        request: { name: 'worker-1' },
        response: { consumerId: 1, generation: 1, heartbeatIntervalMs: 5000, sessionTimeoutMs: 30000, assignments: [{ topic: 'orders', queueId: 1, committedOffset: 0 }] },
      },
      handler: async (req, res, { body }) => {
        res.status(201).json(await register(ctx, checkName('group', req.params.group as string), body.name, body.host ?? req.ip ?? null));
      },
    }),
    route({
      method: 'post',
      path: `${CONSUMERS}/:id/heartbeat`,
      tag: 'consumers',
      summary: 'Keep a consumer alive; answers the queues it owns now',
      handler: async (req, res) => {
        res.json(await heartbeat(ctx, checkName('group', req.params.group as string), parseId('consumerId', req.params.id as string)));
      },
    }),
    route<FailRequest>({
      method: 'post',
      path: `${CONSUMERS}/:id/fail`,
      tag: 'consumers',
      summary: 'Report messages that failed: each is retried later or, out of retries, moved to the dead topic',
      body: failSchema,
      example: { request: { messages: [{ queueId: 1, id: 17 }], reason: 'card declined' } },
      handler: async (req, res, { body }) => {
        res.json(await fail(ctx, checkName('group', req.params.group as string), parseId('consumerId', req.params.id as string), body));
      },
    }),
    route({
      method: 'delete',
      path: `${CONSUMERS}/:id`,
      tag: 'consumers',
      summary: 'Leave the group: its queues move to the others at once',
      handler: async (req, res) => {
        res.json(await leave(ctx, checkName('group', req.params.group as string), parseId('consumerId', req.params.id as string)));
      },
    }),
  ];
}
