import { toError } from '../../shared/errors';
import { pruneAuditLog } from '../../shared/metadata/audit';
import { pruneJobRuns } from '../../shared/metadata/jobs';
import { listDbNodes } from '../../shared/metadata/nodes';
import { listTopics, queuesOfTopic } from '../../shared/metadata/topics';
import { checkpoint, startCounts, type JobDefinition, type JobRun } from './job';
import { cleanQueue, emptyCleanup } from './queue-cleanup';

/** job_run rows removed per statement when pruning the job history. */
const PRUNE_BATCH = 1_000;

/**
 * clean-history: for every queue of every topic, deletes the messages older than the topic's
 * retention_hours (see queue-cleanup.ts for the bounded batches and the offset floor), then prunes
 * job_run history older than jobRunRetentionHours and audit_log entries older than
 * auditLogRetentionDays. A queue whose node fails is logged and counted,
 * the other queues are still cleaned, and the run ends failed.
 */
export const cleanHistory: JobDefinition = {
  name: 'clean-history',
  enabledKey: 'jobsCleanHistoryEnabled',
  cronKey: 'jobsCleanHistoryCron',
  async run(ctx, run) {
    const counts = startCounts(run, {
      topics: 0,
      queues: 0,
      deleted: 0,
      unconsumedDeleted: 0,
      batches: 0,
      offsetsRaised: 0,
      failedQueues: 0,
      jobRunsPruned: 0,
      auditEntriesPruned: 0,
    });
    const nodes = new Map((await listDbNodes(ctx.db)).map((n) => [n.id, n]));
    for (const topic of await listTopics(ctx.db)) {
      counts.topics += 1;
      for (const queue of await queuesOfTopic(ctx.db, topic.id)) {
        checkpoint(run);
        counts.queues += 1;
        const node = nodes.get(queue.dbNodeId);
        const q = emptyCleanup();
        try {
          if (!node) throw new Error(`db node ${queue.dbNodeId} of queue ${queue.id} is not registered`);
          const { pool } = await ctx.nodes.get(node);
          try {
            await cleanQueue(ctx, run, topic, queue, pool, q);
          } finally {
            counts.deleted += q.deleted;
            counts.unconsumedDeleted += q.unconsumedDeleted;
            counts.batches += q.batches;
            counts.offsetsRaised += q.offsetsRaised;
          }
          if (q.deleted > 0) {
            run.logger.info('deleted expired messages', { topic: topic.name, queueId: queue.id, retentionHours: topic.retentionHours, ...q });
          }
          if (q.unconsumedDeleted > 0) {
            run.logger.warn('retention deleted messages that a subscribed group had not consumed yet', {
              topic: topic.name,
              queueId: queue.id,
              unconsumedDeleted: q.unconsumedDeleted,
            });
          }
        } catch (err) {
          if (run.signal.aborted) throw err;
          counts.failedQueues += 1;
          run.logger.error('could not clean a queue; continuing with the others', {
            topic: topic.name,
            queueId: queue.id,
            err: toError(err).message,
          });
        }
      }
    }
    counts.jobRunsPruned = await pruneInBatches(run, () => pruneJobRuns(ctx.db, ctx.config.jobRunRetentionHours, PRUNE_BATCH));
    counts.auditEntriesPruned = await pruneInBatches(run, () => pruneAuditLog(ctx.db, ctx.config.auditLogRetentionDays, PRUNE_BATCH));
    if (counts.failedQueues > 0) throw new Error(`${counts.failedQueues} of ${counts.queues} queues could not be cleaned`);
  },
};

/** Calls `prune` (which deletes at most PRUNE_BATCH rows) until a call finds less; returns the total. */
async function pruneInBatches(run: JobRun, prune: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    checkpoint(run);
    const pruned = await prune();
    total += pruned;
    if (pruned < PRUNE_BATCH) return total;
  }
}
