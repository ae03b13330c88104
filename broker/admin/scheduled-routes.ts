import { Router } from 'express';
import { summarizeScheduled } from '../../shared/metadata/schedules';
import type { BrokerContext } from '../context';
import { queryValidator } from '../http/query';

const checkQuery = queryValidator<Record<string, never>>({ type: 'object', additionalProperties: false, properties: {} });

/**
 * GET /api/v1/admin/scheduled: per topic, the messages waiting in the schedule (delayed produces,
 * retries, dead moves) and those postponed because they could not be delivered when due.
 */
export function scheduledRoutes(ctx: BrokerContext): Router {
  const r = Router();
  r.get('/scheduled', async (req, res) => {
    checkQuery(req.query);
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
  });
  return r;
}
