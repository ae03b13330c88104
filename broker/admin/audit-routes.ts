import { listAudit } from '../../shared/metadata/audit';
import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';
import { nextBeforeId } from './paging';

const DEFAULT_LIMIT = 100;

const auditQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    target: { type: 'string', minLength: 1, maxLength: 255, description: 'Exact target, e.g. topic:orders, group:billing, db-node:node-b' },
    actor: { type: 'string', minLength: 1, maxLength: 200, description: 'The actor as stored, or its name before the @' },
    action: { type: 'string', pattern: '^[a-z][a-z.-]{0,63}$', description: 'e.g. topic.delete, group.subscribe' },
    from: { type: 'string', format: 'date-time', description: 'Entries at or after this time' },
    to: { type: 'string', format: 'date-time', description: 'Entries before this time' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: DEFAULT_LIMIT },
    after: { type: 'integer', minimum: 1, description: 'The previous page\'s "next": entries older than it' },
  },
} as const;

interface AuditQuery {
  target?: string;
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  limit: number;
  after?: number;
}

/** GET /api/v1/admin/audit-log: every admin change, newest first, a page at a time. */
export function auditRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route<undefined, AuditQuery>({
      method: 'get',
      path: '/api/v1/admin/audit-log',
      tag: 'audit',
      summary: 'Read the audit log, newest first; filter by target, actor, action and time; page with after=<next>',
      query: auditQuerySchema,
      example: {
        response: {
          entries: [{ id: 42, actor: 'alice@10.0.0.5', action: 'topic.delete', target: 'topic:orders', detail: { force: false }, createdAt: '2026-12-01T23:00:00.000Z' }],
          next: 42,
        },
      },
      handler: async (_req, res, { query }) => {
        const rows = await listAudit(ctx.db, {
          target: query.target,
          actor: query.actor,
          action: query.action,
          from: query.from === undefined ? undefined : new Date(query.from),
          to: query.to === undefined ? undefined : new Date(query.to),
          beforeId: query.after,
          limit: query.limit,
        });
        res.json({ entries: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })), next: nextBeforeId(rows, query.limit) });
      },
    }),
  ];
}
