import type { Knex } from 'knex';
import { BrokerError } from '../../shared/errors';
import { fencedQueues, type FencedQueue } from '../../shared/metadata/fencing';
import { lockFence } from '../../shared/metadata/offsets';
import type { ConsumerGroup, QueueOffset } from '../../shared/metadata/rows';
import type { BrokerContext } from '../context';
import { expired } from './membership';

/** 409 REBALANCED: nothing was applied; `details.fenced` names each refused queue and why. */
export function rebalanced(consumerId: number, fenced: readonly FencedQueue[]): BrokerError {
  const ids = fenced.map((f) => f.queueId).join(', ');
  return new BrokerError('REBALANCED', `consumer ${consumerId} may not act on queue(s) ${ids} (changed hands or reset); pull again`, { fenced });
}

/**
 * Applies the fencing rule (shared/metadata/fencing.ts) to `queueIds` inside `trx`, under the
 * group's lock, so that what it finds holds until `trx` ends. Throws 404 for a consumer that is
 * not alive and 409 UNKNOWN_GENERATION for a generation the group never reached; returns the
 * group's rows of the queues and the queues refused.
 */
export async function fence(
  ctx: BrokerContext,
  trx: Knex.Transaction,
  group: ConsumerGroup,
  consumerId: number,
  queueIds: readonly number[],
  seenGeneration: number | null,
): Promise<{ rows: Map<number, QueueOffset>; fenced: FencedQueue[] }> {
  const state = await lockFence(trx, { groupId: group.id, consumerId, queueIds, sessionTimeoutMs: ctx.config.sessionTimeoutMs });
  if (!state?.alive) throw expired(group.name, consumerId);
  if (seenGeneration !== null && seenGeneration > state.generation) {
    throw new BrokerError('UNKNOWN_GENERATION', `generation ${seenGeneration} was never issued: group ${group.name} is at generation ${state.generation}; pull again`, {
      generation: seenGeneration,
      currentGeneration: state.generation,
    });
  }
  return { rows: state.rows, fenced: fencedQueues(state.rows, consumerId, queueIds, seenGeneration) };
}
