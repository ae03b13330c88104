import { listAlerts } from '../../shared/metadata/alerts';
import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';
import { nextBeforeId } from './paging';

const alertsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    active: { type: 'boolean', default: false, description: 'Only the alerts firing now (the latest state of each kind and target)' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    after: { type: 'integer', minimum: 1, description: 'The previous page\'s "next": alerts older than it' },
  },
} as const;

/** GET /api/v1/admin/alerts: the lag and capacity alerts portal-jobs raised and cleared, newest first. */
export function alertRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route<undefined, { active: boolean; limit: number; after?: number }>({
      method: 'get',
      path: '/api/v1/admin/alerts',
      tag: 'alerts',
      summary: 'Alerts raised and cleared by check-alarms (lag over maxLag, spare queues low), newest first; active=true: the ones firing now',
      query: alertsQuerySchema,
      example: {
        response: {
          alerts: [
            { id: 3, kind: 'lag', target: 'group:billing/topic:orders', state: 'firing', value: 12000, threshold: 10000, message: '...', deliveryStatus: 200, deliveryError: null, createdAt: '2026-12-01T23:00:00.000Z' },
          ],
          next: null,
        },
      },
      handler: async (_req, res, { query }) => {
        const rows = await listAlerts(ctx.db, { limit: query.limit, beforeId: query.after, active: query.active });
        res.json({ alerts: rows.map((a) => ({ ...a, createdAt: a.createdAt.toISOString() })), next: query.active ? null : nextBeforeId(rows, query.limit) });
      },
    }),
  ];
}
