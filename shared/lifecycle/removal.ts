import type { Knex } from 'knex';
import { deleteSubscriptionRow, findSubscription, subscriptionsOfTopic } from '../metadata/groups';
import { deleteOffsetsOfGroupTopic, deleteOffsetsOfQueues } from '../metadata/offsets';
import type { Subscription } from '../metadata/rows';
import { deleteFailuresOfQueues, deleteScheduledOfTopic } from '../metadata/schedules';
import { deleteTopicRow, queuesOfTopic, releaseQueues } from '../metadata/topics';

/*
 * The metadata side of taking things away (topic delete, unsubscribe, group delete, shrink), each
 * inside the caller's transaction. Queue tables are never emptied here: a released queue waits for
 * portal-jobs (reclaim-queues) to truncate it once no broker can still be writing to it.
 */

/**
 * Takes queues out of their topic for good. Offsets and failure records go with them: the table
 * restarts its ids when it is emptied, and an old offset or failure would then name another message.
 */
export async function detachQueues(trx: Knex.Transaction, queueIds: readonly number[]): Promise<void> {
  await deleteOffsetsOfQueues(trx, queueIds);
  await deleteFailuresOfQueues(trx, queueIds);
  await releaseQueues(trx, queueIds);
}

export interface RemovedTopic {
  topicId: number;
  queueIds: number[];
  /** Delayed messages (delays, retries) that were waiting to enter the topic. */
  scheduledDropped: number;
}

/** Deletes a topic, releasing its queues. Every subscription to it must be removed first. */
export async function removeTopic(trx: Knex.Transaction, topicId: number): Promise<RemovedTopic> {
  const queueIds = (await queuesOfTopic(trx, topicId)).map((q) => q.id);
  await detachQueues(trx, queueIds);
  const scheduledDropped = await deleteScheduledOfTopic(trx, topicId);
  await deleteTopicRow(trx, topicId);
  return { topicId, queueIds, scheduledDropped };
}

/** A group stops reading a topic: its offsets and failure records of it go, the row goes. */
async function dropSubscription(trx: Knex.Transaction, sub: Subscription): Promise<void> {
  const queueIds = (await queuesOfTopic(trx, sub.topicId)).map((q) => q.id);
  await deleteOffsetsOfGroupTopic(trx, sub.groupId, sub.topicId);
  await deleteFailuresOfQueues(trx, queueIds, sub.groupId);
  await deleteSubscriptionRow(trx, sub.id);
}

/**
 * Unsubscribes a group from a topic, and deletes the subscription's retry and dead topics (any
 * subscription to them goes too: they exist only for this one).
 */
export async function removeSubscription(trx: Knex.Transaction, sub: Subscription): Promise<RemovedTopic[]> {
  await dropSubscription(trx, sub);
  const removed: RemovedTopic[] = [];
  for (const sideTopicId of [sub.retryTopicId, sub.deadTopicId]) {
    if (sideTopicId === null) continue;
    for (const reader of await subscriptionsOfTopic(trx, sideTopicId)) await dropSubscription(trx, reader);
    removed.push(await removeTopic(trx, sideTopicId));
  }
  return removed;
}

/** The subscription if it still exists (an earlier removal in the same transaction may have taken it). */
export async function stillSubscribed(trx: Knex.Transaction, sub: Subscription): Promise<Subscription | undefined> {
  return findSubscription(trx, sub.groupId, sub.topicId);
}
