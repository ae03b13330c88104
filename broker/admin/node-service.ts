import { BrokerError, toError } from '../../shared/errors';
import { isDuplicate } from '../../shared/db/mysql-errors';
import { writeAudit } from '../../shared/metadata/audit';
import { findDbNodeByName, insertDbNode, listDbNodes } from '../../shared/metadata/nodes';
import type { DbNode, NewDbNode } from '../../shared/metadata/rows';
import { queueCountsByNode } from '../../shared/metadata/topics';
import { probeNode } from '../../shared/messages/node-pools';
import { queueTableName } from '../../shared/messages/queue-table';
import type { BrokerContext } from '../context';
import { createSpareQueues } from './queue-tables';

/** Never echo passwords. */
export function describeNode(n: DbNode, queues?: number) {
  return { id: n.id, name: n.name, host: n.host, port: n.port, database: n.database, user: n.user, readOnly: n.readOnly, queues, createdAt: n.createdAt.toISOString() };
}

export async function addDbNode(ctx: BrokerContext, req: NewDbNode, actor: string) {
  if (await findDbNodeByName(ctx.db, req.name)) throw new BrokerError('ALREADY_EXISTS', `db node ${req.name} already exists`, { dbNode: req.name });
  let version: string;
  try {
    ({ version } = await probeNode(req));
  } catch (err) {
    throw new BrokerError('DB_NODE_UNREACHABLE', `cannot connect to ${req.host}:${req.port}/${req.database}: ${toError(err).message}`, {
      dbNode: req.name,
      code: (err as { code?: string }).code ?? null,
    });
  }
  await ctx.db.transaction(async (trx) => {
    try {
      await insertDbNode(trx, req, ctx.secrets);
    } catch (err) {
      if (isDuplicate(err)) throw new BrokerError('ALREADY_EXISTS', `db node ${req.name} already exists`, { dbNode: req.name });
      throw err;
    }
    await writeAudit(trx, { actor, action: 'db-node.add', target: `db-node:${req.name}`, detail: { ...req, password: undefined, version } });
  });
  await ctx.catalog.reload();
  const node = await requireNode(ctx, req.name);
  return { ...describeNode(node, 0), version };
}

export async function requireNode(ctx: BrokerContext, name: string): Promise<DbNode> {
  const node = await findDbNodeByName(ctx.db, name);
  if (!node) throw new BrokerError('DB_NODE_NOT_FOUND', `db node ${name} does not exist`, { dbNode: name });
  return node;
}

export async function listNodes(ctx: BrokerContext) {
  const [nodes, counts] = await Promise.all([listDbNodes(ctx.db), queueCountsByNode(ctx.db)]);
  return { dbNodes: nodes.map((n) => describeNode(n, counts.get(n.id) ?? 0)) };
}

export async function addSpareQueues(ctx: BrokerContext, nodeName: string, count: number, actor: string) {
  const node = await requireNode(ctx, nodeName);
  const ids = await createSpareQueues(ctx, node, count);
  await writeAudit(ctx.db, { actor, action: 'queue.create-spare', target: `db-node:${nodeName}`, detail: { count, queueIds: ids } });
  return { dbNode: nodeName, queues: ids.map((id) => ({ id, table: queueTableName(id) })) };
}
