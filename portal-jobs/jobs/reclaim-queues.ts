import { toError } from '../../shared/errors';
import { listDbNodes } from '../../shared/metadata/nodes';
import { completeShrink, shrinkStanding } from '../../shared/lifecycle/shrink';
import { markQueueEmptied, releasedQueuesPastGrace, retiringQueuesPastGrace } from '../../shared/metadata/topics';
import { rebalanceGroup } from '../../shared/rebalance/rebalance';
import { truncateQueueTable } from '../../shared/messages/sql/truncate-queue-table';
import { checkpoint, startCounts, type JobDefinition } from './job';

/**
 * reclaim-queues, first step: shrinks. A queue that has taken no writes for queueReleaseGraceMs
 * leaves its topic once every subscribed group has committed past its last message (or at once
 * when the shrink was forced); the groups then rebalance over the remaining queues.
 * Second step: queues released by a topic delete, an unsubscribe or a shrink are emptied
 * (TRUNCATE, which also restarts their ids) and go back to their node's spare pool. It waits
 * queueReleaseGraceMs after the release, so no broker still serving an older catalog can write
 * into a table after it was emptied. A queue whose node fails stays released and is tried again.
 */
export const reclaimQueues: JobDefinition = {
  name: 'reclaim-queues',
  enabledKey: 'jobsReclaimQueuesEnabled',
  cronKey: 'jobsReclaimQueuesCron',
  didWork: (counts) => (counts.shrinksCompleted ?? 0) + (counts.emptied ?? 0) + (counts.failedQueues ?? 0) > 0,
  async run(ctx, run) {
    const counts = startCounts(run, { shrinksCompleted: 0, shrinksWaiting: 0, emptied: 0, failedQueues: 0 });
    const nodes = new Map((await listDbNodes(ctx.db)).map((n) => [n.id, n]));
    for (const queue of await retiringQueuesPastGrace(ctx.db, ctx.config.queueReleaseGraceMs)) {
      checkpoint(run);
      try {
        const node = nodes.get(queue.dbNodeId);
        if (!node) throw new Error(`db node ${queue.dbNodeId} of queue ${queue.id} is not registered`);
        const standing = await shrinkStanding(ctx.db, (await ctx.nodes.get(node)).pool, queue);
        if (!standing.caughtUp && !queue.shrinkForced) {
          counts.shrinksWaiting += 1;
          continue;
        }
        const groupIds = await completeShrink(ctx.db, queue, standing, `portal-jobs:${ctx.holder}`);
        if (groupIds === undefined) continue;
        for (const groupId of groupIds) await rebalanceGroup(ctx.db, groupId, ctx.config.sessionTimeoutMs);
        counts.shrinksCompleted += 1;
        run.logger.info('a shrinking queue left its topic', { queueId: queue.id, topicId: queue.topicId, forced: queue.shrinkForced, lastId: standing.lastId });
      } catch (err) {
        if (run.signal.aborted) throw err;
        counts.failedQueues += 1;
        run.logger.error('could not complete the shrink of a queue', { queueId: queue.id, err: toError(err).message });
      }
    }
    for (const queue of await releasedQueuesPastGrace(ctx.db, ctx.config.queueReleaseGraceMs)) {
      checkpoint(run);
      try {
        const node = nodes.get(queue.dbNodeId);
        if (!node) throw new Error(`db node ${queue.dbNodeId} of queue ${queue.id} is not registered`);
        await truncateQueueTable((await ctx.nodes.get(node)).pool, queue.tableName);
        await markQueueEmptied(ctx.db, queue.id);
        counts.emptied += 1;
        run.logger.info('emptied a released queue; it is a spare again', { queueId: queue.id, dbNode: node.name });
      } catch (err) {
        if (run.signal.aborted) throw err;
        counts.failedQueues += 1;
        run.logger.error('could not empty a released queue; it stays out of the spare pool', { queueId: queue.id, err: toError(err).message });
      }
    }
    if (counts.failedQueues > 0) throw new Error(`${counts.failedQueues} queues could not be reclaimed`);
  },
};
