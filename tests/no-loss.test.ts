import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBroker, type Broker } from '../broker/server';
import { createLogger } from '../shared/logger';
import { apiClient, createGroup, createTopic, joinGroup, testConfig, uniqueName, type Api, type Pulled, type TestConsumer } from './helpers/broker';
import { freshDatabase, sqlClient } from './helpers/db';

/**
 * The delivery guarantee under concurrency: many producers through two brokers (so several INSERTs
 * into one table are in flight at once and commit out of id order) while consumers pull and commit.
 * A slow direct writer keeps transactions open across other commits. Every acknowledged message
 * must be delivered, in id order per queue, exactly once.
 */
let db: Awaited<ReturnType<typeof freshDatabase>>;
let brokers: Broker[] = [];
let apis: Api[] = [];
before(async () => {
  db = await freshDatabase('noloss');
  const logger = createLogger('error', 'test');
  brokers = [await startBroker(testConfig(db.url, { nodePoolSize: 12 }), logger), await startBroker(testConfig(db.url, { nodePoolSize: 12 }), logger)];
  apis = brokers.map((b) => apiClient(`http://127.0.0.1:${b.port}`));
});
after(async () => {
  await Promise.all(brokers.map((b) => b.stop()));
  await db?.drop();
});

const TOTAL = 20_000;
const PRODUCERS = 16;

async function runScenario(queues: number, consumerCount: number) {
  const topic = uniqueName('noloss');
  const group = uniqueName('g');
  const created = await createTopic(apis[0]!, topic, queues);
  await createGroup(apis[0]!, group, [topic]);
  const consumers: TestConsumer[] = [];
  for (let i = 0; i < consumerCount; i++) consumers.push(await joinGroup(apis[i % 2]!, group, `c${i}`));

  const acked = new Map<string, string>(); // "queue:id" → body text
  const delivered = new Map<string, string>();
  // Acknowledged but not yet delivered. Sizes alone can't tell when to stop: a slow write can be
  // delivered before its COMMIT returns to the writer and counts as acknowledged.
  const undelivered = new Set<string>();
  const ack = (key: string, body: string) => {
    acked.set(key, body);
    if (!delivered.has(key)) undelivered.add(key);
  };
  let producing = true;
  let writersDone = false;
  const perProducer = Math.floor(TOTAL / PRODUCERS);
  const producers = Array.from({ length: PRODUCERS }, async (_, p) => {
    const api = apis[p % 2]!;
    let sent = 0;
    while (sent < perProducer) {
      const n = Math.min(1 + ((sent * 7 + p) % 9), perProducer - sent);
      const messages = Array.from({ length: n }, (_, k) => ({ body: { p, i: sent + k } }));
      const res = await api.post(`/api/v1/topics/${topic}/messages`, { messages });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      (res.body.results as { queueId: number; id: number }[]).forEach((r, k) => ack(`${r.queueId}:${r.id}`, JSON.stringify(messages[k]!.body)));
      sent += n;
    }
  });

  // A deliberately slow writer on the first queue: its transactions stay open for a few ms after
  // taking an id, the way a produce on a busy server does, so later ids often commit before it.
  const slowWriter = (async () => {
    const sql = await sqlClient(db.name);
    const queue = created.queues[0]!;
    for (let i = 0; producing && i < 400; i++) {
      const body = JSON.stringify({ slow: i });
      await sql.conn.query('START TRANSACTION');
      const [result] = (await sql.conn.query(`INSERT INTO \`${queue.table}\` (body) VALUES (?)`, [Buffer.from(body)])) as unknown as [{ insertId: number }];
      await new Promise((r) => setTimeout(r, 1 + (i % 7)));
      await sql.conn.query('COMMIT');
      ack(`${queue.id}:${result.insertId}`, body);
    }
    await sql.end();
  })();

  const lastIdPerQueue = new Map<number, number>();
  const problems: string[] = [];
  let stopBy = Infinity;
  const consume = async (c: TestConsumer) => {
    while (!writersDone || undelivered.size > 0) {
      if (Date.now() > stopBy) {
        problems.push(`consumer ${c.consumerId} timed out with ${delivered.size} of ${acked.size} delivered`);
        return;
      }
      const res = await c.pull({ max: 500, waitMs: 50 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const batch = res.body as Pulled;
      for (const m of batch.messages) {
        const key = `${m.queueId}:${m.id}`;
        if (delivered.has(key)) problems.push(`duplicate ${key}`);
        if (m.id <= (lastIdPerQueue.get(m.queueId) ?? 0)) problems.push(`out of order ${key}`);
        lastIdPerQueue.set(m.queueId, m.id);
        delivered.set(key, JSON.stringify(m.body));
        undelivered.delete(key);
      }
      if (batch.positions.length > 0) {
        const commit = await c.commit(batch.positions, batch.generation);
        assert.equal(commit.status, 200, JSON.stringify(commit.body));
      }
    }
  };
  const consuming = consumers.map((c) => consume(c));
  await Promise.all(producers);
  producing = false;
  await slowWriter;
  writersDone = true;
  stopBy = Date.now() + 60_000;
  await Promise.all(consuming);

  assert.ok(acked.size > PRODUCERS * perProducer, 'the slow writer added rows too');
  assert.deepEqual(problems, []);
  const missing = [...acked.keys()].filter((k) => !delivered.has(k));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged messages were never delivered`);
  assert.equal(delivered.size, acked.size);
  for (const [key, body] of acked) assert.equal(delivered.get(key), body, `body of ${key}`);
}

describe('no loss under concurrency', { timeout: 180_000 }, () => {
  test('16 producers into one queue while a consumer pulls and commits: every acked id arrives once, in order', async () => {
    await runScenario(1, 1);
  });

  test('16 producers into 4 queues with 3 consumers: every acked id arrives once, in order per queue', async () => {
    await runScenario(4, 3);
  });
});
