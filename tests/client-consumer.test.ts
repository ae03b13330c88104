import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Consumer, Producer, type ReceivedMessage } from '../client';
import { createGroup, createTopic, startTestBroker, TEST_ADMIN_TOKEN, uniqueName, type TestBroker } from './helpers/broker';
import { stopAfterEach } from './helpers/client';
import { sleep, waitFor } from './helpers/wait';

let t: TestBroker;
let url: string;
before(async () => {
  // A short session, so a killed consumer's queues move on within the test.
  t = await startTestBroker('client-consumer', { sessionTimeoutMs: 1500, heartbeatIntervalMs: 200 });
  url = t.api.baseUrl;
});
after(async () => {
  await t?.close();
});

const track = stopAfterEach();

interface Keyed {
  key: string;
  seq: number;
}

/**
 * Deliveries as they happen, from any consumer. Order per key holds if no message is handled
 * before every earlier message of its key was handled at least once (redeliveries go back, never
 * ahead).
 */
function deliveryLog() {
  const highest = new Map<string, number>();
  const seen = new Set<string>();
  const outOfOrder: string[] = [];
  const by = new Map<string, number>();
  return {
    seen,
    outOfOrder,
    by,
    record(who: string, body: Keyed) {
      const top = highest.get(body.key) ?? 0;
      if (body.seq > top + 1) outOfOrder.push(`${who} got ${body.key}#${body.seq} after #${top}`);
      highest.set(body.key, Math.max(top, body.seq));
      seen.add(`${body.key}#${body.seq}`);
      by.set(who, (by.get(who) ?? 0) + 1);
    },
  };
}

function childConsumer(group: string, name: string, onMessage: (m: { body: Keyed }) => void) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/client-consumer-child.ts'], {
    env: { ...process.env, CLIENT_BROKERS: url, CLIENT_TOKEN: TEST_ADMIN_TOKEN, CLIENT_GROUP: group, CLIENT_NAME: name, CLIENT_HANDLER_MS: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  track({ stop: async () => void child.kill('SIGKILL') });
  createInterface({ input: child.stdout }).on('line', (line) => onMessage(JSON.parse(line) as { body: Keyed }));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited };
}

describe('client consumer', () => {
  test('no message is lost and order per key holds while a consumer is killed and another joins', async () => {
    const topic = uniqueName('kill');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 4);
    await createGroup(t.api, group, [topic]);
    const log = deliveryLog();
    const errors: Error[] = [];
    const inProcess = (name: string) =>
      track(new Consumer<Keyed>({
        brokers: [url],
        token: TEST_ADMIN_TOKEN,
        group,
        name,
        waitMs: 500,
        concurrency: 4,
        maxMessages: 50,
        onError: (e) => errors.push(e),
        handler: async (m) => {
          log.record(name, m.body);
          await sleep(2);
        },
      }));
    const survivor = inProcess('survivor');
    await survivor.start();
    const victim = childConsumer(group, 'victim', (m) => log.record('victim', m.body));

    const KEYS = 16;
    const PER_KEY = 150;
    const producer = new Producer({ brokers: [url], token: TEST_ADMIN_TOKEN });
    const producing = (async () => {
      for (let seq = 1; seq <= PER_KEY; seq += 10) {
        const round: Promise<unknown>[] = [];
        for (let s = seq; s < seq + 10; s++) for (let k = 0; k < KEYS; k++) round.push(producer.enqueue(topic, { key: `k${k}`, body: { key: `k${k}`, seq: s } }));
        await Promise.all(round);
      }
    })();

    await waitFor('the victim to handle messages', async () => (log.by.get('victim') ?? 0) >= 50, 30_000, 20);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const joiner = inProcess('joiner');
    await joiner.start();
    await producing;
    await waitFor('every message to be delivered', async () => log.seen.size === KEYS * PER_KEY, 60_000, 50);
    await Promise.all([survivor.stop(), joiner.stop(), producer.close()]);

    assert.deepEqual(log.outOfOrder, []);
    assert.ok((log.by.get('joiner') ?? 0) > 0, 'the joining consumer took over some queues');
    const unexpected = errors.filter((e) => !['REBALANCED', 'CONSUMER_EXPIRED'].includes((e as { code?: string }).code ?? ''));
    assert.deepEqual(unexpected.map((e) => e.message), []);
  });

  test('stop() during a long-poll aborts it and leaves without registering again', { timeout: 15_000 }, async () => {
    const topic = uniqueName('idle');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const calls: string[] = [];
    let pulling: () => void = () => {};
    const pullStarted = new Promise<void>((resolve) => (pulling = resolve));
    const consumer = track(new Consumer({
      brokers: [url],
      token: TEST_ADMIN_TOKEN,
      group,
      name: 'quitter',
      waitMs: 30_000,
      handler: () => undefined,
      fetch: (input, init) => {
        const path = new URL(input instanceof Request ? input.url : input).pathname;
        calls.push(`${init?.method} ${path.replace(/^\/api\/v1\/groups\/[^/]+/, '')}`);
        if (path.endsWith('/pull')) pulling();
        return fetch(input, init);
      },
    }));
    await consumer.start();
    const id = consumer.consumerId!;
    await pullStarted;
    await consumer.stop();

    assert.deepEqual(
      calls.filter((c) => !c.endsWith('/heartbeat')),
      ['POST /consumers', `POST /consumers/${id}/pull`, `DELETE /consumers/${id}`],
    );
    const members = await t.api.get(`/api/v1/admin/groups/${group}/consumers`);
    assert.deepEqual(members.body.consumers, []);
  });

  test('after an offset reset the consumer delivers again from the reset point, even when idle', async () => {
    const topic = uniqueName('reset');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    await new Producer({ brokers: [url], token: TEST_ADMIN_TOKEN }).send(topic, [1, 2, 3, 4, 5, 6].map((n) => ({ body: n, key: `k${n}` })));
    const times = new Map<number, number>();
    const rebalances: { queues: number[]; revoked: number[] }[] = [];
    const consumer = track(new Consumer<number>({
      brokers: [url],
      token: TEST_ADMIN_TOKEN,
      group,
      name: 'resettable',
      waitMs: 500,
      handler: (m) => void times.set(m.body, (times.get(m.body) ?? 0) + 1),
      onRebalance: (e) => rebalances.push(e),
    }));
    await consumer.start();
    await waitFor('all six handled and committed', async () => times.size === 6 && (await t.api.get(`/api/v1/admin/groups/${group}/lag`)).body.totalLag === 0);
    const reset = await t.api.post(`/api/v1/admin/groups/${group}/offsets/reset`, { topic, to: 'earliest' });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    await waitFor('all six handled again', async () => [...times.values()].every((n) => n >= 2));
    await consumer.stop();
    assert.deepEqual([...times.values()], [2, 2, 2, 2, 2, 2]);
    assert.deepEqual(rebalances.flatMap((e) => e.revoked), [], 'a reset queue is still owned: nothing revoked');
  });

  test('a handler that always throws sends its messages to the dead topic after maxRetries', async () => {
    const topic = uniqueName('poison');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 1);
    await t.api.post('/api/v1/admin/groups', { name: group });
    const sub = await t.api.post(`/api/v1/admin/groups/${group}/subscriptions`, { topic, start: 'earliest', maxRetries: 2, backoffMs: [10, 10] });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    await new Producer({ brokers: [url], token: TEST_ADMIN_TOKEN }).send(topic, [1, 2, 3].map((n) => ({ body: { n } })));

    const attempts = new Map<number, number>();
    const seen: ReceivedMessage<{ n: number }>[] = [];
    const consumer = track(new Consumer<{ n: number }>({
      brokers: [url],
      token: TEST_ADMIN_TOKEN,
      group,
      name: 'unlucky',
      waitMs: 200,
      handler: (m) => {
        seen.push(m);
        attempts.set(m.body.n, (attempts.get(m.body.n) ?? 0) + 1);
        throw new Error(`cannot handle ${m.body.n}`);
      },
    }));
    await consumer.start();
    const dead = await waitFor('3 dead messages', async () => {
      const res = await t.api.get(`/api/v1/admin/groups/${group}/dead-messages?topic=${topic}`);
      return res.body.messages.length === 3 ? (res.body.messages as { body: { n: number }; reason: string; retryCount: number }[]) : undefined;
    }, 20_000);
    await waitFor('the group to commit past them', async () => (await t.api.get(`/api/v1/admin/groups/${group}/lag`)).body.totalLag === 0);
    await consumer.stop();

    assert.deepEqual(dead.map((d) => [d.body.n, d.reason, d.retryCount]).sort(), [1, 2, 3].map((n) => [n, `cannot handle ${n}`, 2]));
    assert.deepEqual([...attempts].sort(), [[1, 3], [2, 3], [3, 3]], 'each message handled once, then retried maxRetries times');
    assert.deepEqual([...new Set(seen.map((m) => m.topic))].sort(), [topic, `${group}.${topic}.retry`].sort());
  });
});

describe('the README client examples', () => {
  /** The README's TypeScript blocks of "Using the client", pointed at the test broker. */
  function readmeExamples(): string[] {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Using the client'), readme.indexOf('## Configuration'));
    return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.replaceAll('http://localhost:8080', url));
  }

  function run(code: string, name: string) {
    // In the repository's root, where a reader puts it, so `./client` resolves.
    const file = join(__dirname, '..', `.readme-${name}-${process.pid}.mts`);
    writeFileSync(file, code);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, TABLEMQ_TOKEN: TEST_ADMIN_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    track({ stop: async () => void child.kill('SIGKILL') });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve)).finally(() => rmSync(file, { force: true }));
    return { child, output: () => out, exited };
  }

  test('copied into files, the producer and the consumer run against a broker as they are', { timeout: 60_000 }, async () => {
    const [produce, consume] = readmeExamples();
    assert.ok(produce && consume, 'two TypeScript examples');
    await createTopic(t.api, 'orders', 4);
    await createGroup(t.api, 'billing', ['orders']);

    const producer = run(produce, 'produce');
    assert.equal(await producer.exited, 0, producer.output());
    const consumer = run(consume, 'consume');
    await waitFor('the consumer to print the 4 orders', async () => [1, 2, 3, 4].every((n) => consumer.output().includes(` ${n}\n`)), 30_000);
    consumer.child.kill('SIGINT');
    assert.equal(await consumer.exited, 0, consumer.output());
    assert.deepEqual((await t.api.get('/api/v1/admin/groups/billing/consumers')).body.consumers, [], 'it left on Ctrl-C');
    assert.equal((await t.api.get('/api/v1/admin/groups/billing/lag')).body.totalLag, 0, 'and committed what it handled');
  });
});
