import type { Knex } from 'knex';
import { retryOnDeadlock } from '../db/mysql-errors';
import { deleteExpiredConsumers, liveConsumerIds } from '../metadata/consumers';
import { bumpGeneration, lockGroup, subscriptionsOfGroup } from '../metadata/groups';
import { assignQueue, offsetsOfGroup } from '../metadata/offsets';
import { queuesOfTopics } from '../metadata/topics';
import { assignQueues } from './assign';

export interface RebalanceResult {
  groupId: number;
  generation: number;
  /** Queues whose owner changed. */
  moved: number;
  /** consumer id → its queue ids after the rebalance. */
  assignments: Map<number, number[]>;
  expiredConsumers: number[];
}

/**
 * The one rebalancer, used by the broker (join, leave, subscription and queue changes) and by
 * portal-jobs (expiry). It holds the group row lock for the whole computation, so one rebalance
 * per group runs at a time across every process, and it always works from a fresh snapshot.
 * Expired consumers are deleted in the same transaction; they never keep or get queues.
 */
export async function rebalanceGroup(db: Knex, groupId: number, sessionTimeoutMs: number): Promise<RebalanceResult | undefined> {
  return retryOnDeadlock(() =>
    db.transaction(async (trx) => {
      const group = await lockGroup(trx, groupId);
      if (!group) return undefined;
      const expiredConsumers = await deleteExpiredConsumers(trx, groupId, sessionTimeoutMs);
      const consumers = await liveConsumerIds(trx, groupId, sessionTimeoutMs);
      const subscriptions = await subscriptionsOfGroup(trx, groupId);
      const queues = await queuesOfTopics(trx, subscriptions.map((s) => s.topicId));
      const readable = new Set(queues.filter((q) => q.readable).map((q) => q.id));
      const rows = await offsetsOfGroup(trx, groupId);

      // The group's retry topics are balanced as a tier of their own, so they never stand in for real queues.
      const retryTopics = new Set(subscriptions.map((s) => s.retryTopicId).filter((id) => id !== null));
      const assignable = rows.filter((r) => readable.has(r.queueId));
      const wanted = assignQueues({
        consumers,
        queues: assignable.map((r) => ({ queueId: r.queueId, topicId: r.topicId, owner: r.consumerId, tier: retryTopics.has(r.topicId) ? 1 : 0 })),
      });
      const changes: { queueId: number; owner: number | null }[] = [];
      for (const row of rows) {
        // Unreadable or unsubscribed queues keep their offset but lose their owner.
        const owner = wanted.get(row.queueId) ?? null;
        if (owner !== row.consumerId) changes.push({ queueId: row.queueId, owner });
      }

      let generation = group.generation;
      if (changes.length > 0) {
        generation = await bumpGeneration(trx, groupId);
        for (const c of changes) await assignQueue(trx, groupId, c.queueId, c.owner, generation);
      }
      const assignments = new Map<number, number[]>(consumers.map((c) => [c, []]));
      for (const [queueId, owner] of wanted) if (owner !== null) assignments.get(owner)?.push(queueId);
      return { groupId, generation, moved: changes.length, assignments, expiredConsumers };
    }),
  );
}
