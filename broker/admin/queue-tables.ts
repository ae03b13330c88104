import { BrokerError } from '../../shared/errors';
import { asStoreError } from '../../shared/db/mysql-errors';
import type { DbNode } from '../../shared/metadata/rows';
import { deletePendingQueue, insertPendingQueue, markQueueTableCreated, queueCountsByNode } from '../../shared/metadata/topics';
import { listDbNodes } from '../../shared/metadata/nodes';
import { createQueueTable } from '../../shared/messages/sql/create-queue-table';
import { queueTableName } from '../../shared/messages/queue-table';
import type { BrokerContext } from '../context';

/**
 * Creates one spare queue: reserve the id in metadata, create its table on the node, then mark the
 * row ready. A crash in between leaves only a pending row that nothing allocates.
 */
async function createSpareQueue(ctx: BrokerContext, node: DbNode): Promise<number> {
  const queueId = await insertPendingQueue(ctx.db, node.id);
  const table = queueTableName(queueId);
  try {
    const conn = await ctx.nodes.get(node);
    await createQueueTable(conn.pool, table);
  } catch (err) {
    await deletePendingQueue(ctx.db, queueId).catch(() => undefined);
    const mapped = asStoreError(err, `db node ${node.name}`);
    if (mapped instanceof BrokerError) throw mapped;
    throw new BrokerError('DB_NODE_UNREACHABLE', `cannot create queue table on db node ${node.name}: ${mapped.message}`, { dbNode: node.name }, { cause: err });
  }
  await markQueueTableCreated(ctx.db, queueId, table);
  ctx.logger.info('created queue table', { dbNode: node.name, queueId, table });
  return queueId;
}

export async function createSpareQueues(ctx: BrokerContext, node: DbNode, count: number): Promise<number[]> {
  if (node.readOnly) throw new BrokerError('CONFLICT', `db node ${node.name} is read-only`, { dbNode: node.name });
  const ids: number[] = [];
  // One at a time: DDL on one server gains nothing from concurrency and this keeps ids ordered.
  for (let i = 0; i < count; i++) ids.push(await createSpareQueue(ctx, node));
  return ids;
}

/** Creates `count` spare tables, each on the writable node holding the fewest queues at that moment. */
export async function createSpareQueuesOnEmptiestNodes(ctx: BrokerContext, count: number): Promise<void> {
  const nodes = (await listDbNodes(ctx.db)).filter((n) => !n.readOnly);
  if (nodes.length === 0) throw new BrokerError('CONFLICT', 'no writable db node to create queue tables on');
  const counts = await queueCountsByNode(ctx.db);
  for (let i = 0; i < count; i++) {
    const node = nodes.reduce((best, n) => ((counts.get(n.id) ?? 0) < (counts.get(best.id) ?? 0) ? n : best));
    await createSpareQueue(ctx, node);
    counts.set(node.id, (counts.get(node.id) ?? 0) + 1);
  }
}
