import { BrokerError } from '../../shared/errors';
import type { QueueView } from '../catalog';
import type { BrokerContext } from '../context';
import { queueMaxId } from '../queue-connection';

/**
 * Refuses an id past the queue's last message (400 OFFSET_OUT_OF_RANGE): no pull can have handed
 * it out. Ids this broker has already seen in the queue need no MAX(id) query.
 */
export async function requireWithinQueue(ctx: BrokerContext, view: QueueView, id: number, what: string): Promise<void> {
  const queueId = view.queue.id;
  if (id <= ctx.signals.knownMaxId(queueId)) return;
  const max = await queueMaxId(ctx, view.queue);
  ctx.signals.seen(queueId, max);
  if (id > max) throw new BrokerError('OFFSET_OUT_OF_RANGE', `${what} ${id} is beyond queue ${queueId}'s last message ${max}`, { queueId, [what]: id, maxId: max });
}
