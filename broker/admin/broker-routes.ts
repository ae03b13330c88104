import { hostname } from 'node:os';
import type { LogLevel } from '../../shared/config';
import { writeAudit } from '../../shared/metadata/audit';
import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';
import { actorOf } from './actor';
import { logLevelSchema } from './log-level';

const LOG_LEVEL = '/api/v1/admin/log-level';

/** Settings of the broker process that answers (not of the whole installation). */
export function brokerRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route({
      method: 'get',
      path: LOG_LEVEL,
      tag: 'broker',
      summary: 'The log level of the broker that answers, and when a temporary one reverts',
      example: { response: { level: 'debug', revertsTo: 'info', revertsAt: '2026-12-01T23:30:00.000Z' } },
      handler: (_req, res) => {
        res.json(ctx.logLevel.state());
      },
    }),
    route<{ level: LogLevel; durationMs?: number }>({
      method: 'put',
      path: LOG_LEVEL,
      tag: 'broker',
      summary: 'Change the log level of the broker that answers, at once; with durationMs it reverts after that long',
      description: 'Only this broker changes: behind a load balancer, call each broker. The change is audited.',
      body: logLevelSchema,
      example: { request: { level: 'debug', durationMs: 600000 }, response: { level: 'debug', revertsTo: 'info', revertsAt: '2026-12-01T23:30:00.000Z' } },
      handler: async (req, res, { body }) => {
        // Audited first: when the metadata database is down the level stays as it was (503).
        await writeAudit(ctx.db, { actor: actorOf(req), action: 'broker.log-level', target: `broker:${hostname()}:${process.pid}`, detail: { ...body, previous: ctx.logger.level } });
        res.json(ctx.logLevel.set(body.level, body.durationMs));
      },
    }),
  ];
}
