import type { Knex } from 'knex';
import type { Pool } from 'mysql2/promise';
import { writeAudit } from '../metadata/audit';
import { subscriptionsOfTopic } from '../metadata/groups';
import { subscribedOffsetsOfQueue } from '../metadata/offsets';
import type { Queue } from '../metadata/rows';
import { lockTopic } from '../metadata/topics';
import { maxId } from '../messages/sql/id-bounds';
import { detachQueues } from './removal';

/** Where the shrink of one retiring queue stands. */
export interface ShrinkStanding {
  /** The queue's last message now (it takes no more writes once every broker has seen that). */
  lastId: number;
  groups: { groupId: number; committedOffset: number; caughtUp: boolean }[];
  /** Every subscribed group has committed past the last message. */
  caughtUp: boolean;
}

export async function shrinkStanding(db: Knex, pool: Pool, queue: Queue): Promise<ShrinkStanding> {
  const lastId = await maxId(pool, queue.tableName);
  const groups = (await subscribedOffsetsOfQueue(db, queue.id)).map((o) => ({ ...o, caughtUp: o.committedOffset >= lastId }));
  return { lastId, groups, caughtUp: groups.every((g) => g.caughtUp) };
}

/**
 * Takes a retiring queue out of its topic (its offsets go, the table waits to be emptied) and
 * returns the groups to rebalance; undefined when it is no longer retiring (done meanwhile).
 */
export async function completeShrink(db: Knex, queue: Queue, standing: ShrinkStanding, actor: string): Promise<number[] | undefined> {
  if (queue.topicId === null) return undefined;
  const topicId = queue.topicId;
  return db.transaction(async (trx) => {
    const topic = await lockTopic(trx, topicId);
    if (!topic) return undefined;
    const still: { id: number } | undefined = await trx('queue').where({ id: queue.id, topic_id: topicId }).whereNotNull('retiring_since').forUpdate().first('id');
    if (!still) return undefined;
    const groupIds = (await subscriptionsOfTopic(trx, topicId)).map((s) => s.groupId);
    await detachQueues(trx, [queue.id]);
    await writeAudit(trx, {
      actor,
      action: 'topic.shrink.complete',
      target: `topic:${topic.name}`,
      detail: { queueId: queue.id, forced: queue.shrinkForced, lastId: standing.lastId, groups: standing.groups },
    });
    return groupIds;
  });
}
