import { toError } from '../../shared/errors';
import { listDbNodes } from '../../shared/metadata/nodes';
import { markQueueEmptied, releasedQueuesPastGrace } from '../../shared/metadata/topics';
import { truncateQueueTable } from '../../shared/messages/sql/truncate-queue-table';
import { checkpoint, startCounts, type JobDefinition } from './job';

/**
 * reclaim-queues: queues released by a topic delete, an unsubscribe or a shrink are emptied
 * (TRUNCATE, which also restarts their ids) and go back to their node's spare pool. It waits
 * queueReleaseGraceMs after the release, so no broker still serving an older catalog can write
 * into a table after it was emptied. A queue whose node fails stays released and is tried again.
 */
export const reclaimQueues: JobDefinition = {
  name: 'reclaim-queues',
  enabledKey: 'jobsReclaimQueuesEnabled',
  cronKey: 'jobsReclaimQueuesCron',
  didWork: (counts) => (counts.emptied ?? 0) + (counts.failedQueues ?? 0) > 0,
  async run(ctx, run) {
    const counts = startCounts(run, { emptied: 0, failedQueues: 0 });
    const nodes = new Map((await listDbNodes(ctx.db)).map((n) => [n.id, n]));
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
    if (counts.failedQueues > 0) throw new Error(`${counts.failedQueues} released queues could not be emptied`);
  },
};
