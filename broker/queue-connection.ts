import { BrokerError } from '../shared/errors';
import type { NodeConnection } from '../shared/messages/node-pools';
import { maxId } from '../shared/messages/sql/id-bounds';
import type { Queue } from '../shared/metadata/rows';
import type { BrokerContext } from './context';

/** The pool of the db node that holds `queue`: the one way from a queue to its node. */
export async function queueConnection(ctx: Pick<BrokerContext, 'catalog' | 'nodes'>, queue: Queue): Promise<NodeConnection> {
  const node = await ctx.catalog.node(queue.dbNodeId);
  if (!node) throw new BrokerError('DB_NODE_NOT_FOUND', `db node ${queue.dbNodeId} of queue ${queue.id} does not exist`, { queueId: queue.id });
  return ctx.nodes.get(node);
}

/** The highest id of a queue, read from its table (0 when empty). */
export async function queueMaxId(ctx: Pick<BrokerContext, 'catalog' | 'nodes'>, queue: Queue): Promise<number> {
  return maxId((await queueConnection(ctx, queue)).pool, queue.tableName);
}
