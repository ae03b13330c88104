import type { Command } from 'commander';
import { seg } from '../api';
import { action, nonNegativeInt, positiveInt } from '../context';
import { UsageError } from '../exit-codes';
import { fields, print, table } from '../output';

interface Group {
  id: number;
  name: string;
  mode: string;
  paused: boolean;
  maxRetries: number;
  generation: number;
  createdAt: string;
  subscriptions?: { topic: string; start: string; tags: string[] | null; maxRetries: number; retryTopic: string | null; deadTopic: string | null }[];
}

interface Lag {
  group: string;
  generation: number;
  totalLag: number;
  queues: { topic: string; queueId: number; maxId: number; committed: number; lag: number; consumerId: number | null }[];
}

interface Consumers {
  group: string;
  generation: number;
  consumers: { id: number; name: string; host: string | null; alive: boolean; heartbeatAt: string; queues: number[] }[];
  unassignedQueues: number[];
}

const groupLine = (g: Group) => `group ${g.name}: ${g.paused ? 'paused' : 'running'}, generation ${g.generation}\n`;

const groupDetail = (g: Group) =>
  fields([
    ['name', g.name],
    ['mode', g.mode],
    ['paused', g.paused],
    ['maxRetries', g.maxRetries],
    ['generation', g.generation],
    ['createdAt', g.createdAt],
  ]) +
  (g.subscriptions
    ? '\n' +
      table(g.subscriptions, [
        ['TOPIC', (s) => s.topic],
        ['START', (s) => s.start],
        ['TAGS', (s) => s.tags],
        ['MAX_RETRIES', (s) => s.maxRetries],
        ['RETRY_TOPIC', (s) => s.retryTopic],
        ['DEAD_TOPIC', (s) => s.deadTopic],
      ])
    : '');

/** "earliest", "latest", an ISO time, or a message id. */
function resetTarget(to: string, queue: number | undefined): unknown {
  if (to === 'earliest' || to === 'latest') return to;
  if (/^\d+$/.test(to)) return queue === undefined ? { id: Number(to) } : { id: Number(to), queueId: queue };
  if (!Number.isNaN(Date.parse(to))) return { timestamp: new Date(to).toISOString() };
  throw new UsageError(`--to must be earliest, latest, a time (2026-11-23T00:00:00Z) or a message id, not ${JSON.stringify(to)}`);
}

export function groupsCommand(program: Command): void {
  const groups = program.command('groups').description('consumer groups: subscriptions, lag, consumers, offsets');
  const path = (name: string, rest = '') => `/api/v1/admin/groups/${seg(name)}${rest}`;

  groups
    .command('list')
    .description('list consumer groups')
    .action(
      action(async ({ api, output }) => {
        const { groups: list } = await api.get<{ groups: Group[] }>('/api/v1/admin/groups');
        print(output, list, (l) =>
          table(l, [
            ['NAME', (g) => g.name],
            ['PAUSED', (g) => g.paused],
            ['MAX_RETRIES', (g) => g.maxRetries],
            ['GENERATION', (g) => g.generation],
          ]),
        );
      }),
    );

  groups
    .command('get <group>')
    .description('one group with its subscriptions')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.get<Group>(path(name!)), groupDetail);
      }),
    );

  groups
    .command('create <group>')
    .description('create a consumer group')
    .option('--max-retries <n>', 'retries of a failed message before it is dead', nonNegativeInt)
    .action(
      action<{ maxRetries?: number }>(async ({ api, output }, [name], o) => {
        print(output, await api.post<Group>('/api/v1/admin/groups', { name, maxRetries: o.maxRetries }), (g) => `created ${groupLine(g)}`);
      }),
    );

  groups
    .command('subscribe <group> <topic>')
    .description('subscribe a group to a topic')
    .option('--start <where>', 'earliest or latest (default latest): where a new subscription starts reading')
    .option('--tag <tag...>', 'only messages with one of these tags')
    .option('--max-retries <n>', 'retries of a failed message before it is dead', nonNegativeInt)
    .action(
      action<{ start?: string; tag?: string[]; maxRetries?: number }>(async ({ api, output }, [name, topic], o) => {
        if (o.start !== undefined && o.start !== 'earliest' && o.start !== 'latest') throw new UsageError('--start must be earliest or latest');
        const sub = await api.post<{ group: string; topic: string; start: string; deadTopic: string | null }>(path(name!, '/subscriptions'), {
          topic,
          start: o.start,
          tags: o.tag,
          maxRetries: o.maxRetries,
        });
        print(output, sub, (s) => `group ${s.group} subscribes to ${s.topic} from ${s.start}${s.deadTopic ? ` (dead topic ${s.deadTopic})` : ''}\n`);
      }),
    );

  groups
    .command('lag <group>')
    .description('lag per queue: the last id minus the committed offset')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.get<Lag>(path(name!, '/lag')), (l) =>
          table(l.queues, [
            ['TOPIC', (q) => q.topic],
            ['QUEUE', (q) => q.queueId],
            ['MAX_ID', (q) => q.maxId],
            ['COMMITTED', (q) => q.committed],
            ['LAG', (q) => q.lag],
            ['CONSUMER', (q) => q.consumerId],
          ]) + `total lag: ${l.totalLag}\n`,
        );
      }),
    );

  groups
    .command('consumers <group>')
    .description('the consumers of a group and the queues each owns')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.get<Consumers>(path(name!, '/consumers')), (c) =>
          table(c.consumers, [
            ['ID', (x) => x.id],
            ['NAME', (x) => x.name],
            ['HOST', (x) => x.host],
            ['ALIVE', (x) => x.alive],
            ['HEARTBEAT_AT', (x) => x.heartbeatAt],
            ['QUEUES', (x) => x.queues],
          ]) + (c.unassignedQueues.length > 0 ? `unassigned queues: ${c.unassignedQueues.join(',')}\n` : ''),
        );
      }),
    );

  for (const [verb, what] of [
    ['pause', 'pause a group: its consumers get no messages until it is resumed'],
    ['resume', 'resume a paused group'],
  ] as const) {
    groups
      .command(`${verb} <group>`)
      .description(what)
      .action(
        action(async ({ api, output }, [name]) => {
          print(output, await api.post<Group>(path(name!, `/${verb}`)), groupLine);
        }),
      );
  }

  groups
    .command('reset <group> <topic>')
    .description("move a group's offsets on a topic")
    .requiredOption('--to <where>', 'earliest, latest, a time (ISO 8601) or a message id (that message counts as processed)')
    .option('--queue <queueId>', 'with a message id: only this queue', positiveInt)
    .action(
      action<{ to: string; queue?: number }>(async ({ api, output }, [name, topic], o) => {
        const answer = await api.post<{ generation: number; offsets: { queueId: number; offset: number }[] }>(path(name!, '/offsets/reset'), { topic, to: resetTarget(o.to, o.queue) });
        print(output, answer, (a) =>
          table(a.offsets ?? [], [
            ['QUEUE', (x) => x.queueId],
            ['OFFSET', (x) => x.offset],
          ]),
        );
      }),
    );
}
