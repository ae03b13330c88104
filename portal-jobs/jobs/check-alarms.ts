import { toError } from '../../shared/errors';
import { alertKey, insertAlert, latestAlerts, recordDelivery, type AlertKind } from '../../shared/metadata/alerts';
import { allSubscriptions, listGroups } from '../../shared/metadata/groups';
import { listDbNodes } from '../../shared/metadata/nodes';
import { offsetsOfGroup } from '../../shared/metadata/offsets';
import { listTopics, queuesOfTopic, spareCountsByNode } from '../../shared/metadata/topics';
import { maxId } from '../../shared/messages/sql/id-bounds';
import type { JobsContext } from '../context';
import { checkpoint, startCounts, type JobDefinition, type JobRun } from './job';

/** How long the webhook may take to answer. */
const WEBHOOK_TIMEOUT_MS = 5_000;

/** One condition the job looked at: over its threshold or not. */
interface Reading {
  kind: AlertKind;
  target: string;
  value: number;
  threshold: number;
  firing: boolean;
  message: string;
}

/** Lag of each subscription that sets maxLag: MAX(id) − committed offset, summed over its queues. */
async function lagReadings(ctx: JobsContext, run: JobRun): Promise<Reading[]> {
  const subs = (await allSubscriptions(ctx.db)).filter((s) => s.maxLag !== null);
  if (subs.length === 0) return [];
  const [groups, topics, nodes] = await Promise.all([listGroups(ctx.db), listTopics(ctx.db), listDbNodes(ctx.db)]);
  const groupNames = new Map(groups.map((g) => [g.id, g.name]));
  const topicNames = new Map(topics.map((t) => [t.id, t.name]));
  const nodesById = new Map(nodes.map((n) => [n.id, n]));
  const readings: Reading[] = [];
  for (const sub of subs) {
    checkpoint(run);
    const offsets = new Map((await offsetsOfGroup(ctx.db, sub.groupId)).filter((o) => o.topicId === sub.topicId).map((o) => [o.queueId, o.committedOffset]));
    let lag = 0;
    for (const queue of await queuesOfTopic(ctx.db, sub.topicId)) {
      const node = nodesById.get(queue.dbNodeId);
      const committed = offsets.get(queue.id);
      if (!node || committed === undefined) continue;
      lag += Math.max(0, (await maxId((await ctx.nodes.get(node)).pool, queue.tableName)) - committed);
    }
    const group = groupNames.get(sub.groupId) ?? String(sub.groupId);
    const topic = topicNames.get(sub.topicId) ?? String(sub.topicId);
    const threshold = sub.maxLag ?? 0;
    readings.push({
      kind: 'lag',
      target: `group:${group}/topic:${topic}`,
      value: lag,
      threshold,
      firing: lag > threshold,
      message: lag > threshold ? `group ${group} lags ${lag} messages behind on ${topic} (maxLag ${threshold})` : `group ${group} is back within maxLag ${threshold} on ${topic} (lag ${lag})`,
    });
  }
  return readings;
}

/** Spare queues per writable node, against alertMinSpareQueues (off when 0). */
async function spareReadings(ctx: JobsContext): Promise<Reading[]> {
  const min = ctx.config.alertMinSpareQueues;
  if (min === 0) return [];
  const [nodes, spares] = await Promise.all([listDbNodes(ctx.db), spareCountsByNode(ctx.db)]);
  return nodes
    .filter((n) => !n.readOnly)
    .map((n) => {
      const spare = spares.get(n.id) ?? 0;
      return {
        kind: 'spare-queues' as const,
        target: `db-node:${n.name}`,
        value: spare,
        threshold: min,
        firing: spare < min,
        message: spare < min ? `db node ${n.name} has ${spare} spare queue(s), fewer than ${min}` : `db node ${n.name} has ${spare} spare queue(s) again`,
      };
    });
}

/** POSTs the alert; returns the HTTP status, or throws when the webhook could not be reached. */
async function deliver(url: string, alert: object): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alert),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  await res.arrayBuffer(); // let the connection be reused
  return res.status;
}

/**
 * check-alarms: compares each subscription's lag with its maxLag and each writable node's spare
 * queues with alertMinSpareQueues. Alerts are edge-triggered: only a change (over the threshold,
 * or back under it) is recorded in `alert`, logged, and POSTed as JSON to alertWebhookUrl; the
 * latest row per (kind, target) is the current state, so several instances and restarts agree.
 */
export const checkAlarms: JobDefinition = {
  name: 'check-alarms',
  enabledKey: 'jobsCheckAlarmsEnabled',
  cronKey: 'jobsCheckAlarmsCron',
  didWork: (counts) => (counts.raised ?? 0) + (counts.cleared ?? 0) > 0,
  async run(ctx, run) {
    const counts = startCounts(run, { checked: 0, raised: 0, cleared: 0, undelivered: 0 });
    const readings = [...(await lagReadings(ctx, run)), ...(await spareReadings(ctx))];
    const current = await latestAlerts(ctx.db);
    for (const r of readings) {
      checkpoint(run);
      counts.checked += 1;
      const wasFiring = current.get(alertKey(r.kind, r.target))?.state === 'firing';
      if (r.firing === wasFiring) continue;
      const state = r.firing ? 'firing' : 'cleared';
      const id = await insertAlert(ctx.db, { kind: r.kind, target: r.target, state, value: r.value, threshold: r.threshold, message: r.message });
      if (r.firing) counts.raised += 1;
      else counts.cleared += 1;
      const alert = { id, kind: r.kind, target: r.target, state, value: r.value, threshold: r.threshold, message: r.message, at: new Date().toISOString() };
      if (r.firing) run.logger.warn(`alert firing: ${r.message}`, { alert });
      else run.logger.info(`alert cleared: ${r.message}`, { alert });
      if (ctx.config.alertWebhookUrl === '') continue;
      try {
        const status = await deliver(ctx.config.alertWebhookUrl, alert);
        await recordDelivery(ctx.db, id, status, status < 300 ? null : `webhook answered ${status}`);
        if (status >= 300) counts.undelivered += 1;
      } catch (err) {
        counts.undelivered += 1;
        await recordDelivery(ctx.db, id, null, toError(err).message);
        run.logger.error('could not deliver an alert to the webhook', { alertId: id, err: toError(err).message });
      }
    }
  },
};
