import type { Command } from 'commander';
import { seg } from '../api';
import { action, positiveInt } from '../context';
import { UsageError } from '../exit-codes';
import { print, table, type Column } from '../output';

export interface ShownMessage {
  topic: string;
  queueId: number;
  id: number;
  body: unknown;
  key: string | null;
  tag: string | null;
  retryCount: number;
  createdAt: string;
  reason?: string | null;
}

export function messageTable(messages: ShownMessage[], withReason = false): string {
  const columns: Column<ShownMessage>[] = [
    ['TOPIC', (m) => m.topic],
    ['QUEUE', (m) => m.queueId],
    ['ID', (m) => m.id],
    ['KEY', (m) => m.key],
    ['TAG', (m) => m.tag],
    ['RETRIES', (m) => m.retryCount],
    ['CREATED_AT', (m) => m.createdAt],
  ];
  if (withReason) columns.push(['REASON', (m) => m.reason]);
  columns.push(['BODY', (m) => JSON.stringify(m.body)]);
  return table(messages, columns);
}

interface Page { messages: ShownMessage[]; next: string | null }

const pageText = (withReason: boolean) => (p: Page) => messageTable(p.messages, withReason) + (p.next ? `more: --after ${p.next}\n` : '');

/** "queueId:id" pairs of the --message option. */
function messageRefs(refs: string[] | undefined) {
  return refs?.map((r) => {
    const m = /^(\d+):(\d+)$/.exec(r);
    if (!m) throw new UsageError(`--message takes queueId:id, not ${JSON.stringify(r)}`);
    return { queueId: Number(m[1]), id: Number(m[2]) };
  });
}

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined);
  return entries.length === 0 ? '' : '?' + new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
}

export function messagesCommand(program: Command): void {
  const messages = program.command('messages').description('look stored messages up');

  messages
    .command('get <topic> <queueId> <id>')
    .description('one message by queue and id')
    .action(
      action(async ({ api, output }, [topic, queueId, id]) => {
        const m = await api.get<ShownMessage>(`/api/v1/topics/${seg(topic!)}/queues/${seg(queueId!)}/messages/${seg(id!)}`);
        print(output, m, (x) => messageTable([x]));
      }),
    );

  messages
    .command('find <topic>')
    .description('messages of a topic by key, time range, or queue and id')
    .option('--key <key>', 'messages with this key')
    .option('--from <time>', 'created at or after (ISO 8601)')
    .option('--to <time>', 'created before (ISO 8601)')
    .option('--queue <queueId>', 'only this queue', positiveInt)
    .option('--id <id>', 'this id (with --queue)', positiveInt)
    .option('--limit <n>', 'page size (default 50)', positiveInt)
    .option('--after <cursor>', 'the cursor printed by the previous page')
    .action(
      action<{ key?: string; from?: string; to?: string; queue?: number; id?: number; limit?: number; after?: string }>(async ({ api, output }, [topic], o) => {
        const q = query({ key: o.key, from: o.from, to: o.to, queueId: o.queue, id: o.id, limit: o.limit, after: o.after });
        print(output, await api.get<Page>(`/api/v1/admin/topics/${seg(topic!)}/messages${q}`), pageText(false));
      }),
    );

  const dead = program.command('dead').description("a group's dead messages: list, resend, purge");

  dead
    .command('list <group>')
    .description('dead messages with the reason of their last failure')
    .option('--topic <topic>', 'only those from this source topic')
    .option('--limit <n>', 'page size (default 50)', positiveInt)
    .option('--after <cursor>', 'the cursor printed by the previous page')
    .action(
      action<{ topic?: string; limit?: number; after?: string }>(async ({ api, output }, [group], o) => {
        const q = query({ topic: o.topic, limit: o.limit, after: o.after });
        print(output, await api.get<Page>(`/api/v1/admin/groups/${seg(group!)}/dead-messages${q}`), pageText(true));
      }),
    );

  for (const [verb, what, counted] of [
    ['resend', 'send dead messages back to their source topic', 'resent'],
    ['purge', 'delete dead messages for good', 'purged'],
  ] as const) {
    dead
      .command(`${verb} <group>`)
      .description(`${what} (--all, or --message queueId:id ...)`)
      .option('--topic <topic>', 'only those from this source topic')
      .option('--message <queueId:id...>', 'these messages')
      .option('--all', 'every dead message (of --topic, if given)')
      .action(
        action<{ topic?: string; message?: string[]; all?: boolean }>(async ({ api, output }, [group], o) => {
          if (!o.all && !o.message) throw new UsageError('say which messages: --all or --message queueId:id');
          const answer = await api.post<Record<string, number>>(`/api/v1/admin/groups/${seg(group!)}/dead-messages/${verb}`, {
            topic: o.topic,
            messages: messageRefs(o.message),
            all: o.all,
          });
          print(output, answer, (a) => `${counted}: ${a[counted] ?? JSON.stringify(a)}\n`);
        }),
      );
  }
}
