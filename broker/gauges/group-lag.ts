import { subscribedOffsets } from '../../shared/metadata/offsets';
import type { BrokerContext } from '../context';
import { queueMaxId } from '../queue-connection';

export interface QueueLag {
  group: string;
  topic: string;
  queueId: number;
  lag: number;
}

/**
 * Lag of every group on every queue it subscribes to: the queue's MAX(id) minus the committed
 * offset (ids, so id holes make it an upper bound). One metadata read plus one MAX(id) per queue,
 * however many groups read it.
 */
export async function readGroupLag(ctx: BrokerContext): Promise<QueueLag[]> {
  const offsets = await subscribedOffsets(ctx.db);
  const maxIds = new Map<number, Promise<number | undefined>>();
  const queueMax = (queueId: number) => {
    let max = maxIds.get(queueId);
    if (!max) {
      max = (async () => {
        const view = await ctx.catalog.queue(queueId);
        if (!view) return undefined; // released since the offsets were read
        return queueMaxId(ctx, view.queue);
      })();
      maxIds.set(queueId, max);
    }
    return max;
  };
  const lags = await Promise.all(
    offsets.map(async (o) => {
      const [max, view] = [await queueMax(o.queueId), await ctx.catalog.queue(o.queueId)];
      return max === undefined || !view ? undefined : { group: o.group, topic: view.topic.name, queueId: o.queueId, lag: Math.max(0, max - o.committedOffset) };
    }),
  );
  return lags.filter((l): l is QueueLag => l !== undefined);
}
