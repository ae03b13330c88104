import { summarizeScheduled } from '../../shared/metadata/schedules';
import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';

/**
 * GET /api/v1/admin/scheduled: per topic, the messages waiting in the schedule (delayed produces,
 * retries, dead moves) and those postponed because they could not be delivered when due.
 */
export function scheduledRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/admin/scheduled',
      tag: 'scheduled',
      summary: 'Per topic, the messages waiting in the schedule and those postponed because they could not be delivered when due',
      query: { type: 'object', additionalProperties: false, properties: {} },
      handler: async (_req, res) => {
        const summaries = await summarizeScheduled(ctx.db);
        const topics = await Promise.all(
          summaries.map(async (s) => ({
            topic: (await ctx.catalog.topicById(s.topicId))?.name ?? null,
            topicId: s.topicId,
            waiting: s.waiting,
            postponed: s.postponed,
            maxAttempts: s.maxAttempts,
            nextAttemptAt: s.nextAttemptAt?.toISOString() ?? null,
            lastError: s.lastError,
          })),
        );
        res.json({ topics });
      },
    }),
  ];
}
