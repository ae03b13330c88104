import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBroker, type Broker } from '../broker/server';
import { BufferFullError, Consumer, Producer, type SendResult } from '../client';
import { createLogger } from '../shared/logger';
import { apiClient, createGroup, createTopic, TEST_ADMIN_TOKEN, testConfig, uniqueName, type Api } from './helpers/broker';
import { freshDatabase } from './helpers/db';
import { stopAfterEach } from './helpers/client';
import { waitFor } from './helpers/wait';

/** Two brokers on one metadata database, so one can be stopped while the other serves. */
let db: Awaited<ReturnType<typeof freshDatabase>>;
let brokers: Broker[] = [];
let urls: string[] = [];
let api: Api;
before(async () => {
  db = await freshDatabase('client_producer');
  const logger = createLogger('error', 'test');
  // A short shutdown: the stopped broker is "killed" by its keep-alive clients' next requests, not drained.
  brokers = [await startBroker(testConfig(db.url, { shutdownTimeoutMs: 500 }), logger), await startBroker(testConfig(db.url), logger)];
  urls = brokers.map((b) => `http://127.0.0.1:${b.port}`);
  api = apiClient(urls[1]!);
});
after(async () => {
  await Promise.all(brokers.map((b) => b.stop()));
  await db?.drop();
});

const track = stopAfterEach();

type Stored = { queueId: number; id: number };
const stored = (r: SendResult): Stored => {
  assert.ok(r.queueId !== null && r.id !== null, 'stored at once, not scheduled');
  return { queueId: r.queueId, id: r.id };
};

/** Reads the whole topic through a client consumer of a fresh group; returns body text by "queue:id". */
async function readAll(topic: string, expected: number): Promise<Map<string, string>> {
  const group = uniqueName('reader');
  await createGroup(api, group, [topic]);
  const got = new Map<string, string>();
  const consumer = track(new Consumer({ brokers: [urls[1]!], token: TEST_ADMIN_TOKEN, group, name: 'reader', waitMs: 200, batchHandler: (ms) => ms.forEach((m) => got.set(`${m.queueId}:${m.id}`, JSON.stringify(m.body))) }));
  await consumer.start();
  await waitFor(`${expected} messages`, async () => got.size >= expected, 20_000);
  await consumer.stop();
  return got;
}

describe('client producer', () => {
  test('fails over when one of two brokers stops; every acknowledged message is delivered', async () => {
    const topic = uniqueName('failover');
    await createTopic(api, topic, 4);
    const producer = new Producer({ brokers: urls, token: TEST_ADMIN_TOKEN, minBackoffMs: 20, retryForMs: 20_000 });
    const acked = new Map<string, string>();
    let ackedAfterStop = 0;
    let stopped = false;
    let next = 0;
    const callers = Array.from({ length: 16 }, async (_, c) => {
      while (!stopped || ackedAfterStop < 300) {
        const n = next++;
        const body = { c, n };
        if (n % 8 === 0) {
          // Some go through send() (one request each), the rest through enqueue().
          const results = await producer.send(topic, [{ body }, { body: { ...body, second: true } }]);
          acked.set(`${stored(results[0]!).queueId}:${stored(results[0]!).id}`, JSON.stringify(body));
          acked.set(`${stored(results[1]!).queueId}:${stored(results[1]!).id}`, JSON.stringify({ ...body, second: true }));
        } else {
          const r = stored(await producer.enqueue(topic, { body }));
          acked.set(`${r.queueId}:${r.id}`, JSON.stringify(body));
        }
        if (stopped) ackedAfterStop += 1;
      }
    });
    await waitFor('a few hundred acknowledgements', async () => acked.size >= 400, 20_000, 10);
    await brokers[0]!.stop();
    stopped = true;
    await Promise.all(callers);
    await producer.close();

    assert.ok(ackedAfterStop > 100, `the producer went on through the other broker (${ackedAfterStop} after the stop)`);
    const delivered = await readAll(topic, acked.size);
    const missing = [...acked].filter(([where, body]) => delivered.get(where) !== body);
    assert.deepEqual(missing, []);
  });

  test('enqueue under a full buffer waits, and the buffer never holds more than its limit', async () => {
    const topic = uniqueName('full');
    await createTopic(api, topic, 2);
    const LIMIT = 16 * 1024;
    const producer = new Producer({ brokers: [urls[1]!], token: TEST_ADMIN_TOKEN, maxBufferedBytes: LIMIT, maxBatchMessages: 8 });
    const pad = 'x'.repeat(1000);
    let highest = 0;
    let mostWaiting = 0;
    const sample = () => {
      highest = Math.max(highest, producer.bufferedBytes);
      mostWaiting = Math.max(mostWaiting, producer.waitingEnqueues);
    };
    const sampler = setInterval(sample, 1);
    const results: Stored[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, c) => {
        for (let i = 0; i < 25; i++) {
          const pending = producer.enqueue(topic, { body: { c, i, pad } });
          sample();
          results.push(stored(await pending));
          sample();
        }
      }),
    );
    clearInterval(sampler);
    await producer.close();

    assert.ok(mostWaiting > 0, 'some enqueue calls had to wait for room');
    assert.ok(highest <= LIMIT, `buffered ${highest} bytes, limit ${LIMIT}`);
    assert.ok(highest > LIMIT / 2, `the buffer was used (${highest} bytes)`);
    assert.equal(new Set(results.map((r) => `${r.queueId}:${r.id}`)).size, 1_000);
    const delivered = await readAll(topic, 1_000);
    assert.equal(delivered.size, 1_000);
  });

  test('with onBufferFull "reject", enqueue on a full buffer rejects with BufferFullError and sends the rest', async () => {
    const topic = uniqueName('reject');
    await createTopic(api, topic, 1);
    const producer = new Producer({ brokers: [urls[1]!], token: TEST_ADMIN_TOKEN, maxBufferedBytes: 8 * 1024, onBufferFull: 'reject' });
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => producer.enqueue(topic, { body: { i, pad: 'y'.repeat(1000) } })));
    await producer.close();
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    const sent = outcomes.filter((o) => o.status === 'fulfilled');
    assert.ok(sent.length >= 1 && sent.length <= 8, `${sent.length} fit`);
    assert.equal(rejected.length, 40 - sent.length);
    for (const r of rejected) assert.ok((r).reason instanceof BufferFullError);
  });

  test('a 4xx rejects only the messages it names; the rest of the batch is stored', async () => {
    const topic = uniqueName('bad');
    await createTopic(api, topic, 1, { maxMessageBytes: 100 });
    const producer = new Producer({ brokers: [urls[1]!], token: TEST_ADMIN_TOKEN, lingerMs: 50 });
    const outcomes = await Promise.allSettled([
      producer.enqueue(topic, { body: 'ok-1' }),
      producer.enqueue(topic, { body: 'z'.repeat(500) }),
      producer.enqueue(topic, { body: 'ok-2', key: 'k'.repeat(200) }),
      producer.enqueue(topic, { body: 'ok-3' }),
    ]);
    await producer.close();
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.deepEqual(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { status: number }).status : 0)), [0, 413, 400, 0]);
    const delivered = await readAll(topic, 2);
    assert.deepEqual([...delivered.values()].sort(), ['"ok-1"', '"ok-3"']);
  });

  test('a 4xx is never retried: an unknown topic rejects at once', async () => {
    let requests = 0;
    const producer = new Producer({ brokers: [urls[1]!], token: TEST_ADMIN_TOKEN, fetch: (input, init) => (requests++, fetch(input, init)) });
    await assert.rejects(producer.send('no-such-topic', [{ body: 1 }]), (e: { status?: number; code?: string }) => e.status === 404 && e.code === 'TOPIC_NOT_FOUND');
    assert.equal(requests, 1);
  });
});
