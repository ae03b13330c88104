import type { Pool } from 'mysql2/promise';
import { toError } from '../../shared/errors';
import { cutoffHoursAgo, deleteOlderThanInRange, idsOlderThan, maxIdAmongOldest } from '../../shared/messages/sql/history-cleanup';
import { minId } from '../../shared/messages/sql/id-bounds';
import { minCommittedOffsetOfQueue, raiseOffsetsOfQueue } from '../../shared/metadata/offsets';
import type { Queue, Topic } from '../../shared/metadata/rows';
import type { JobsContext } from '../context';
import { checkpoint, pause, type JobRun } from './job';

/** What cleaning one queue did; filled in as it goes, so a failure still reports what was done. */
export interface QueueCleanup {
  deleted: number;
  /** Deleted rows above the lowest committed offset of the subscribed groups. */
  unconsumedDeleted: number;
  batches: number;
  /** queue_offset rows moved up to the new floor. */
  offsetsRaised: number;
}

export const emptyCleanup = (): QueueCleanup => ({ deleted: 0, unconsumedDeleted: 0, batches: 0, offsetsRaised: 0 });

/**
 * How many idx_created_at entries one pass looks at to find where it may delete up to. Bounds
 * that read when a lot of history is due at once (a first run, a shortened retention).
 */
const passScan = (batchSize: number) => Math.min(batchSize * 50, 500_000);

/**
 * Deletes one queue's rows created before the topic's retention cutoff (by the node's clock), in
 * batches of at most cleanupBatchSize ids by id range, pausing cleanupPauseMs between batches.
 * Rows newer than the cutoff stay, whatever their id. Afterwards, committed offsets below the
 * oldest remaining id are raised to just below it, so lag stays true and no reader walks the hole.
 * Progress is added to `result` as it happens.
 */
export async function cleanQueue(ctx: JobsContext, run: JobRun, topic: Topic, queue: Queue, pool: Pool, result: QueueCleanup): Promise<void> {
  const { cleanupBatchSize: batchSize, cleanupPauseMs: pauseMs } = ctx.config;
  const table = queue.tableName;
  // Fixed for the whole queue, so "deleted" and "deleted before consumed" describe one set of rows.
  const cutoff = await cutoffHoursAgo(pool, topic.retentionHours);
  let afterId = 0;
  let highestDeleted = 0;
  try {
    for (;;) {
      checkpoint(run);
      const upTo = await maxIdAmongOldest(pool, table, cutoff, passScan(batchSize));
      if (upTo <= afterId) break; // nothing (more) is due
      for (;;) {
        checkpoint(run);
        const ids = await idsOlderThan(pool, table, afterId, upTo, cutoff, batchSize);
        const first = ids[0];
        const last = ids[ids.length - 1];
        if (first === undefined || last === undefined) break;
        // Counted before deleting: a group that has not committed past an id has not consumed it.
        const lowestCommitted = await minCommittedOffsetOfQueue(ctx.db, queue.id);
        const unconsumed = lowestCommitted === null ? 0 : ids.filter((id) => id > lowestCommitted).length;
        const deleted = await deleteOlderThanInRange(pool, table, first, last, cutoff);
        result.deleted += deleted;
        result.unconsumedDeleted += Math.min(unconsumed, deleted);
        result.batches += 1;
        highestDeleted = last;
        afterId = last;
        await pause(pauseMs, run.signal);
      }
      afterId = Math.max(afterId, upTo);
    }
  } finally {
    // Also after an interrupted run: whatever was deleted must not leave offsets in the hole.
    if (highestDeleted > 0) {
      try {
        result.offsetsRaised = await raiseOffsetsBelowFloor(ctx, queue, pool, highestDeleted);
      } catch (err) {
        run.logger.error('could not raise offsets after cleanup; consumers still pass the hole by themselves', {
          queueId: queue.id,
          err: toError(err).message,
        });
      }
    }
  }
}

/**
 * The floor is the oldest remaining id − 1, but never above the highest id this run deleted. That
 * row's created_at (always the server's clock at insert, see queue-table.ts) is older than the
 * retention, so every lower id was handed out even earlier, and no insert runs that long: none of
 * them can still be in flight. Above it an id may be, and raising past it would skip that row.
 */
async function raiseOffsetsBelowFloor(ctx: JobsContext, queue: Queue, pool: Pool, highestDeleted: number): Promise<number> {
  const oldest = await minId(pool, queue.tableName);
  const floor = oldest === null ? highestDeleted : Math.min(oldest - 1, highestDeleted);
  return floor > 0 ? raiseOffsetsOfQueue(ctx.db, queue.id, floor) : 0;
}
