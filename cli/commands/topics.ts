import type { Command } from 'commander';
import { seg } from '../api';
import { action, positiveInt } from '../context';
import { fields, print, table } from '../output';

interface Topic {
  id: number;
  name: string;
  kind: string;
  retentionHours: number;
  maxMessageBytes: number;
  owner: string | null;
  createdAt: string;
  queues: { id: number; dbNode: string; table: string; readable: boolean; writable: boolean }[];
}

const topicList = (topics: Topic[]) =>
  table(topics, [
    ['NAME', (t) => t.name],
    ['KIND', (t) => t.kind],
    ['QUEUES', (t) => t.queues.length],
    ['RETENTION_H', (t) => t.retentionHours],
    ['MAX_MESSAGE_BYTES', (t) => t.maxMessageBytes],
    ['OWNER', (t) => t.owner],
  ]);

const topicDetail = (t: Topic) =>
  fields([
    ['name', t.name],
    ['kind', t.kind],
    ['retentionHours', t.retentionHours],
    ['maxMessageBytes', t.maxMessageBytes],
    ['owner', t.owner],
    ['createdAt', t.createdAt],
  ]) +
  '\n' +
  table(t.queues, [
    ['QUEUE', (q) => q.id],
    ['DB_NODE', (q) => q.dbNode],
    ['TABLE', (q) => q.table],
    ['READABLE', (q) => q.readable],
    ['WRITABLE', (q) => q.writable],
  ]);

export function topicsCommand(program: Command): void {
  const topics = program.command('topics').description('create, list and change topics');

  topics
    .command('list')
    .description('list topics')
    .action(
      action(async ({ api, output }) => {
        const { topics: list } = await api.get<{ topics: Topic[] }>('/api/v1/admin/topics');
        print(output, list, topicList);
      }),
    );

  topics
    .command('get <topic>')
    .description('one topic with its queues')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.get<Topic>(`/api/v1/admin/topics/${seg(name!)}`), topicDetail);
      }),
    );

  topics
    .command('create <topic>')
    .description('create a topic')
    .requiredOption('-q, --queues <n>', 'number of queues (tables)', positiveInt)
    .option('--retention-hours <h>', 'keep messages this long', positiveInt)
    .option('--max-message-bytes <n>', 'largest message body', positiveInt)
    .option('--owner <owner>', 'who owns the topic (free text)')
    .option('--db-node <node>', 'put every queue on this node')
    .action(
      action<{ queues: number; retentionHours?: number; maxMessageBytes?: number; owner?: string; dbNode?: string }>(async ({ api, output }, [name], o) => {
        const created = await api.post<Topic>('/api/v1/admin/topics', {
          name,
          queues: o.queues,
          retentionHours: o.retentionHours,
          maxMessageBytes: o.maxMessageBytes,
          owner: o.owner,
          dbNode: o.dbNode,
        });
        print(output, created, (t) => `created topic ${t.name} with ${t.queues.length} queue(s)\n` + topicDetail(t));
      }),
    );

  topics
    .command('expand <topic>')
    .description('add queues to a topic')
    .requiredOption('-q, --queues <n>', 'queues to add', positiveInt)
    .option('--db-node <node>', 'put the new queues on this node')
    .action(
      action<{ queues: number; dbNode?: string }>(async ({ api, output }, [name], o) => {
        const t = await api.post<Topic>(`/api/v1/admin/topics/${seg(name!)}/expand`, { queues: o.queues, dbNode: o.dbNode });
        print(output, t, (x) => `topic ${x.name} now has ${x.queues.length} queue(s)\n` + topicDetail(x));
      }),
    );

  topics
    .command('queue <topic> <queueId>')
    .description('make one queue of a topic readable/writable or not')
    .option('--readable', 'consumers read it')
    .option('--no-readable', 'consumers stop reading it')
    .option('--writable', 'produces may go to it')
    .option('--no-writable', 'produces stop going to it')
    .action(
      action<{ readable?: boolean; writable?: boolean }>(async ({ api, output }, [name, queueId], o) => {
        const t = await api.patch<Topic>(`/api/v1/admin/topics/${seg(name!)}/queues/${seg(queueId!)}`, { readable: o.readable, writable: o.writable });
        print(output, t, topicDetail);
      }),
    );
}
