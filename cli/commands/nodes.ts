import type { Command } from 'commander';
import { seg } from '../api';
import { action, positiveInt } from '../context';
import { fields, print, table } from '../output';

interface DbNode { id: number; name: string; host: string; port: number; database: string; user: string; readOnly: boolean; queues: number; createdAt: string }

const nodeDetail = (n: DbNode) =>
  fields([
    ['name', n.name],
    ['host', `${n.host}:${n.port}`],
    ['database', n.database],
    ['user', n.user],
    ['readOnly', n.readOnly],
    ['queues', n.queues],
    ['createdAt', n.createdAt],
  ]);

export function nodesCommand(program: Command): void {
  const nodes = program.command('nodes').description('the MySQL/MariaDB servers that hold queue tables');

  nodes
    .command('list')
    .description('list db nodes')
    .action(
      action(async ({ api, output }) => {
        const { dbNodes } = await api.get<{ dbNodes: DbNode[] }>('/api/v1/admin/db-nodes');
        print(output, dbNodes, (list) =>
          table(list, [
            ['NAME', (n) => n.name],
            ['HOST', (n) => `${n.host}:${n.port}`],
            ['DATABASE', (n) => n.database],
            ['READ_ONLY', (n) => n.readOnly],
            ['QUEUES', (n) => n.queues],
          ]),
        );
      }),
    );

  nodes
    .command('get <node>')
    .description('one db node')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.get<DbNode>(`/api/v1/admin/db-nodes/${seg(name!)}`), nodeDetail);
      }),
    );

  nodes
    .command('add <node>')
    .description('register a db node (the broker connects to it first; the database must exist)')
    .requiredOption('--host <host>', 'server address')
    .option('--port <port>', 'server port', positiveInt, 3306)
    .requiredOption('--database <db>', 'database on that server')
    .requiredOption('--user <user>', 'user')
    .option('--password <password>', 'password (default: TABLEMQ_NODE_PASSWORD)', process.env.TABLEMQ_NODE_PASSWORD ?? '')
    .option('--read-only', 'no new queues or writes on it')
    .action(
      action<{ host: string; port: number; database: string; user: string; password: string; readOnly?: boolean }>(async ({ api, output }, [name], o) => {
        const node = await api.post<DbNode>('/api/v1/admin/db-nodes', { name, host: o.host, port: o.port, database: o.database, user: o.user, password: o.password, readOnly: o.readOnly ?? false });
        print(output, node, (n) => `added db node ${n.name}\n` + nodeDetail(n));
      }),
    );

  nodes
    .command('add-queues <node>')
    .description('create spare queue tables on a node')
    .requiredOption('--count <n>', 'how many', positiveInt)
    .action(
      action<{ count: number }>(async ({ api, output }, [name], o) => {
        const answer = await api.post<{ dbNode: string; queues: { id: number; table: string }[] }>(`/api/v1/admin/db-nodes/${seg(name!)}/queues`, { count: o.count });
        print(output, answer, (a) =>
          table(a.queues, [
            ['QUEUE', (q) => q.id],
            ['TABLE', (q) => q.table],
          ]),
        );
      }),
    );
}
