import { toError } from '../../shared/errors';
import { scheduleBacklog } from '../../shared/metadata/schedules';
import type { BrokerContext } from '../context';
import type { Producer } from '../produce/producer';
import { CachedRead } from './cached-read';
import { readGroupLag } from './group-lag';
import { metadataPoolUsage, nodePoolUsage, type PoolUsage } from './pool-usage';

/**
 * The gauges of /metrics, each read at scrape time. Lag and the schedule backlog read the
 * databases, so they share one cached read per `metricsRefreshMs`; they describe the whole
 * installation (every broker reports the same figures).
 */
export function registerGauges(ctx: BrokerContext, producer: Producer): void {
  const { metrics, config, logger } = ctx;
  const warn = (what: string) => (err: unknown) => logger.warn(`${what} for /metrics failed; serving the last value`, { err: toError(err).message });

  metrics.gauge('tablemq_produce_pending_bytes', 'Bytes accepted by produce requests and not yet committed', () => producer.budget.pendingBytes);
  metrics.gauge('tablemq_pulls_waiting', 'Long-polling pulls waiting on this broker for messages', () => ctx.waitingPulls.size);
  metrics.gauge('tablemq_pull_prefetched_bytes', 'Message bytes read ahead for consumers and not yet handed out', () => ctx.prefetches.heldBytes);

  const lag = new CachedRead(() => readGroupLag(ctx), config.metricsRefreshMs, warn('reading group lag'));
  metrics.labelledGauge('tablemq_group_lag_messages', 'Messages of a queue after the group\'s committed offset (MAX(id) - offset; an upper bound when ids have holes)', ['group', 'topic', 'queue'], async () =>
    (await lag.get()).map((l) => ({ labels: { group: l.group, topic: l.topic, queue: l.queueId }, value: l.lag })),
  );

  const backlog = new CachedRead(() => scheduleBacklog(ctx.db), config.metricsRefreshMs, warn('reading the schedule backlog'));
  metrics.gauge('tablemq_scheduled_messages', 'Messages parked for later delivery (delayed produces, retries, dead-letter moves)', async () => (await backlog.get()).parked);
  metrics.gauge('tablemq_scheduled_due_messages', 'Parked messages whose due time has passed and that no scheduler has moved yet', async () => (await backlog.get()).due);
  metrics.gauge('tablemq_scheduled_oldest_due_age_seconds', 'How long the oldest due parked message has waited past its due time (0 when none is due)', async () => (await backlog.get()).oldestDueAgeMs / 1000);

  const pools = async (): Promise<{ pool: string; usage: PoolUsage }[]> => {
    const nodes = await ctx.nodes.openPools();
    const named = await Promise.all(nodes.map(async (n) => ({ pool: `node:${(await ctx.catalog.node(n.nodeId))?.name ?? n.nodeId}`, usage: nodePoolUsage(n.pool) })));
    return [{ pool: 'metadata', usage: metadataPoolUsage(ctx.db) }, ...named];
  };
  metrics.labelledGauge('tablemq_db_pool_connections', 'Connections of a database pool by state (in_use, idle) and the pool\'s limit (max)', ['pool', 'state'], async () =>
    (await pools()).flatMap(({ pool, usage }) => [
      { labels: { pool, state: 'in_use' }, value: usage.inUse },
      { labels: { pool, state: 'idle' }, value: usage.idle },
      { labels: { pool, state: 'max' }, value: usage.size },
    ]),
  );
  metrics.labelledGauge('tablemq_db_pool_waiting_requests', 'Requests waiting for a connection of a database pool', ['pool'], async () =>
    (await pools()).map(({ pool, usage }) => ({ labels: { pool }, value: usage.waiting })),
  );
}
