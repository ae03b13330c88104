import type { QueueOffset } from './rows';

/**
 * The fencing rule, written once: a consumer may commit or fail messages of a queue only while it
 * owns the queue, and only if the queue has not changed owner or been reset since the group
 * generation the consumer names. Each queue_offset row carries the group generation in which its
 * owner or offset last changed by force (a rebalance or an admin reset); a generation above the
 * group's current one was never issued and fences nothing: the caller refuses it first.
 */
export type FenceReason =
  /** The queue belongs to another consumer, or to none. */
  | 'NOT_OWNED'
  /** The consumer owns the queue, but it changed hands or was reset after the generation named. */
  | 'REASSIGNED';

export interface FencedQueue {
  queueId: number;
  reason: FenceReason;
}

export function fenceReason(row: Pick<QueueOffset, 'consumerId' | 'generation'> | undefined, consumerId: number, seenGeneration: number | null): FenceReason | null {
  if (!row || row.consumerId !== consumerId) return 'NOT_OWNED';
  if (seenGeneration !== null && row.generation > seenGeneration) return 'REASSIGNED';
  return null;
}

/**
 * The same rule as SQL, for statements that fence and write at once: a condition on queue_offset
 * rows (unqualified columns), true for the rows `fenceReason` lets through, plus the refusal of a
 * generation from the future.
 */
export function fenceSql(groupId: number, consumerId: number, seenGeneration: number | null): { sql: string; params: number[] } {
  if (seenGeneration === null) return { sql: 'consumer_group_id = ? AND consumer_id = ?', params: [groupId, consumerId] };
  return {
    sql: 'consumer_group_id = ? AND consumer_id = ? AND generation <= ? AND ? <= (SELECT g.generation FROM consumer_group g WHERE g.id = ?)',
    params: [groupId, consumerId, seenGeneration, seenGeneration, groupId],
  };
}

/** The queues of `queueIds` the rule refuses, in the order given. */
export function fencedQueues(rows: ReadonlyMap<number, Pick<QueueOffset, 'consumerId' | 'generation'>>, consumerId: number, queueIds: readonly number[], seenGeneration: number | null): FencedQueue[] {
  const fenced: FencedQueue[] = [];
  for (const queueId of queueIds) {
    const reason = fenceReason(rows.get(queueId), consumerId, seenGeneration);
    if (reason) fenced.push({ queueId, reason });
  }
  return fenced;
}
