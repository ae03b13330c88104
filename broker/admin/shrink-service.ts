import { BrokerError } from '../../shared/errors';
import { retryOnDeadlock } from '../../shared/db/mysql-errors';
import { writeAudit } from '../../shared/metadata/audit';
import { forceRetiring, lockTopic, markRetiring, queuesOfTopic } from '../../shared/metadata/topics';
import type { BrokerContext } from '../context';
import { describeTopic, requireTopic } from './topic-service';

export interface ShrinkRequest {
  /** How many queues to remove (the newest ones that are not already leaving). */
  queues?: number;
  /** Or exactly which. */
  queueIds?: number[];
  /** Leave without waiting for the groups to read the queues to their end (their unread messages are lost to them). */
  force?: boolean;
}

/**
 * Starts shrinking a topic, the safe way: the chosen queues stop taking writes now; portal-jobs
 * (reclaim-queues) takes each out of the topic once no broker can still be writing to it and
 * every subscribed group has committed past its last message (or at once when forced), then
 * empties it back into its node's spare pool. Naming queues that are already leaving with
 * `force` forces their shrink. The last writable queue is never removed.
 */
export async function shrinkTopic(ctx: BrokerContext, name: string, req: ShrinkRequest, actor: string) {
  const topic = await requireTopic(ctx, name);
  const force = req.force ?? false;
  await retryOnDeadlock(() =>
    ctx.db.transaction(async (trx) => {
      if (!(await lockTopic(trx, topic.id))) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${name} does not exist`, { topic: name });
      const queues = await queuesOfTopic(trx, topic.id);
      const staying = queues.filter((q) => q.retiringSince === null);
      let chosen;
      if (req.queueIds !== undefined) {
        const ids = req.queueIds;
        const unknown = ids.filter((id) => !queues.some((q) => q.id === id));
        if (unknown.length > 0) throw new BrokerError('QUEUE_NOT_FOUND', `queue(s) ${unknown.join(', ')} not part of topic ${name}`, { topic: name, queueIds: unknown });
        chosen = queues.filter((q) => ids.includes(q.id));
      } else {
        const count = req.queues ?? 0;
        if (count > staying.length) {
          throw new BrokerError('CONFLICT', `topic ${name} has ${staying.length} queue(s) not already leaving; cannot remove ${count}`, { topic: name });
        }
        chosen = staying.slice(staying.length - count);
      }
      const starting = chosen.filter((q) => q.retiringSince === null);
      const leaving = chosen.filter((q) => q.retiringSince !== null);
      if (leaving.length > 0 && !force) {
        throw new BrokerError('CONFLICT', `queue(s) ${leaving.map((q) => q.id).join(', ')} of topic ${name} are already leaving; add force to stop waiting for the groups`, {
          topic: name,
          queueIds: leaving.map((q) => q.id),
        });
      }
      const writableLeft = staying.filter((q) => q.writable && !starting.includes(q));
      if (starting.length > 0 && writableLeft.length === 0) {
        throw new BrokerError('CONFLICT', `removing queue(s) ${starting.map((q) => q.id).join(', ')} would leave topic ${name} no writable queue`, { topic: name });
      }
      await markRetiring(trx, starting.map((q) => q.id), force);
      await forceRetiring(trx, leaving.map((q) => q.id));
      await writeAudit(trx, {
        actor,
        action: force ? 'topic.shrink.force' : 'topic.shrink',
        target: `topic:${name}`,
        detail: { queueIds: chosen.map((q) => q.id), force },
      });
    }),
  );
  await ctx.catalog.reload();
  return describeTopic(ctx, topic);
}
