import { toError } from '../../shared/errors';
import { groupsWithExpiredConsumers } from '../../shared/metadata/consumers';
import { rebalanceGroup } from '../../shared/rebalance/rebalance';
import { checkpoint, startCounts, type JobDefinition } from './job';

/**
 * expire-consumers: consumers whose heartbeat is older than sessionTimeoutMs are removed and their
 * groups rebalanced by the broker's own rebalancer (which deletes the expired consumers inside the
 * group-row lock), so the queues of a consumer that died without leaving move to the live ones
 * even when no live consumer heartbeats through a broker in the meantime.
 */
export const expireConsumers: JobDefinition = {
  name: 'expire-consumers',
  enabledKey: 'jobsExpireConsumersEnabled',
  cronKey: 'jobsExpireConsumersCron',
  // It runs every 10 s by default and almost always finds nobody to expire.
  didWork: (counts) => (counts.expiredConsumers ?? 0) > 0,
  async run(ctx, run) {
    const timeoutMs = ctx.config.sessionTimeoutMs;
    const counts = startCounts(run, { groups: 0, expiredConsumers: 0, movedQueues: 0, failedGroups: 0 });
    const groupIds = await groupsWithExpiredConsumers(ctx.db, timeoutMs);
    for (const groupId of groupIds) {
      checkpoint(run);
      try {
        const result = await rebalanceGroup(ctx.db, groupId, timeoutMs);
        if (!result) continue; // the group was deleted meanwhile
        counts.groups += 1;
        counts.expiredConsumers += result.expiredConsumers.length;
        counts.movedQueues += result.moved;
        run.logger.info('expired consumers removed; group rebalanced', {
          groupId,
          consumers: result.expiredConsumers,
          movedQueues: result.moved,
          generation: result.generation,
        });
      } catch (err) {
        // One group's trouble (a lock wait, say) must not keep the others' dead consumers around.
        counts.failedGroups += 1;
        run.logger.error('could not rebalance a group with expired consumers', { groupId, err: toError(err).message });
      }
    }
    if (counts.failedGroups > 0) throw new Error(`${counts.failedGroups} of ${groupIds.length} groups could not be rebalanced`);
  },
};
