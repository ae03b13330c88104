import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBroker } from '../broker/server';
import { createLogger } from '../shared/logger';
import { readMessagesJson } from '../shared/messages/sql/read-messages-json';
import mysql from 'mysql2/promise';
import { apiClient, createGroup, createTopic, joinGroup, produce, produceSpread, startTestBroker, testConfig, uniqueName, type Api, type TestBroker } from './helpers/broker';

/** The broker's cap on a pull's bytes in these tests. */
const PULL_MAX_BYTES = 60_000;

let t: TestBroker;
before(async () => {
  t = await startTestBroker('protocol', { sessionTimeoutMs: 30_000, pullPollIntervalMs: 100, pullMaxBytes: PULL_MAX_BYTES });
});
after(async () => {
  await t?.close();
});

/** A fresh topic of `queues` queues and a group that reads it from the start. */
async function topicAndGroup(label: string, queues: number) {
  const topic = uniqueName(label);
  const group = uniqueName('g');
  const created = await createTopic(t.api, topic, queues);
  await createGroup(t.api, group, [topic]);
  return { topic, group, created };
}

async function groupGeneration(group: string): Promise<number> {
  const res = await t.api.get(`/api/v1/admin/groups/${group}`);
  assert.equal(res.status, 200);
  return res.body.generation as number;
}

async function committedOffsets(group: string): Promise<Map<number, number>> {
  const lag = await t.api.get(`/api/v1/admin/groups/${group}/lag`);
  return new Map((lag.body.queues as { queueId: number; committed: number }[]).map((q) => [q.queueId, q.committed]));
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

/** Resolves once `api`'s broker reports at least one pull waiting (a condition, not a sleep). */
async function untilPullWaits(api: Api, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (metric((await api.get('/metrics')).body, 'tablemq_pulls_waiting') >= 1) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail('no pull started waiting');
}

describe('generation: one value, the group generation', () => {
  test('register, heartbeat, pull and leave answer the same generation, even to a consumer whose queues did not move', async () => {
    const { group } = await topicAndGroup('gen', 2);
    const a = await joinGroup(t.api, group, 'a');
    assert.equal(a.registered.generation, await groupGeneration(group));
    // b takes one of a's two queues; the queue a keeps was assigned in the earlier generation.
    const b = await joinGroup(t.api, group, 'b');
    const now = await groupGeneration(group);
    assert.ok(now > a.registered.generation);
    assert.equal(b.registered.generation, now);
    assert.equal((await a.heartbeat()).body.generation, now);
    assert.equal((await a.pulled()).generation, now, 'a pull answers the group generation, not that of the queues it reads');
    const left = await b.leave();
    assert.equal(left.status, 200);
    const afterLeave = await groupGeneration(group);
    assert.equal(left.body.generation, afterLeave);
    assert.equal((await a.heartbeat()).body.generation, afterLeave);
    assert.equal((await a.pulled()).generation, afterLeave);
  });

  test('a commit or fail naming a generation never issued is 409 UNKNOWN_GENERATION and moves nothing', async () => {
    const topic = uniqueName('future');
    const group = uniqueName('g');
    const created = await createTopic(t.api, topic, 1);
    const queueId = created.queues[0]!.id;
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c');
    await produce(t.api, topic, [{ body: 1 }, { body: 2 }]);
    const batch = await c.pulled();
    assert.equal(batch.messages.length, 2);
    const future = batch.generation + 1;

    const commit = await c.commit(batch.positions, future);
    assert.equal(commit.status, 409);
    assert.equal(commit.body.error.code, 'UNKNOWN_GENERATION');
    assert.deepEqual(commit.body.error.details, { generation: future, currentGeneration: batch.generation });
    assert.equal((await committedOffsets(group)).get(queueId), 0, 'nothing committed');

    const fail = await t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, { messages: [{ queueId, id: batch.messages[0]!.id }], generation: future });
    assert.equal(fail.status, 409);
    assert.equal(fail.body.error.code, 'UNKNOWN_GENERATION');
    assert.equal(await t.sql.count('failed_message', 'queue_id = ?', [queueId]), 0, 'nothing failed');

    assert.equal((await c.commit(batch.positions, batch.generation)).status, 200, 'the generation issued is accepted');
  });
});

describe('commit: the queues still owned are committed, the others named', () => {
  test('a commit that lost some queues to a rebalance commits the rest and lists the lost ones as NOT_OWNED', async () => {
    const { topic, group } = await topicAndGroup('partial', 4);
    const a = await joinGroup(t.api, group, 'a');
    await produceSpread(t.api, topic, Array.from({ length: 40 }, (_, i) => ({ body: i })), 4);
    const batch = await a.pulled({ max: 100 });
    assert.equal(batch.messages.length, 40);
    assert.equal(batch.positions.length, 4);
    const b = await joinGroup(t.api, group, 'b');
    const lost = await b.queues();
    assert.equal(lost.length, 2);

    const res = await a.commit(batch.positions, batch.generation);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const kept = batch.positions.filter((p) => !lost.includes(p.queueId));
    assert.deepEqual(res.body.committed, kept);
    assert.deepEqual(res.body.fenced, lost.map((queueId) => ({ queueId, reason: 'NOT_OWNED' })));
    const committed = await committedOffsets(group);
    for (const p of kept) assert.equal(committed.get(p.queueId), p.offset, `queue ${p.queueId} still owned: committed`);
    for (const q of lost) assert.equal(committed.get(q), 0, `queue ${q} lost: not committed`);
    const redelivered = await b.pulled({ max: 100 });
    assert.equal(redelivered.messages.length, 20, 'the new owner gets the lost queues from their committed offsets');
  });

  test('queues reset after the generation named are REASSIGNED; when every queue is fenced the answer is 409 with the same list', async () => {
    const reset = uniqueName('reset');
    const other = uniqueName('other');
    const group = uniqueName('g');
    const resetQueue = (await createTopic(t.api, reset, 1)).queues[0]!.id;
    const otherQueue = (await createTopic(t.api, other, 1)).queues[0]!.id;
    await createGroup(t.api, group, [reset, other]);
    const c = await joinGroup(t.api, group, 'c');
    await produce(t.api, reset, [{ body: 'r' }]);
    await produce(t.api, other, [{ body: 'o' }]);
    const batch = await c.pulled({ max: 10 });
    assert.equal(batch.messages.length, 2);
    assert.equal((await t.api.post(`/api/v1/admin/groups/${group}/offsets/reset`, { topic: reset, to: 'earliest' })).status, 200);

    const res = await c.commit(batch.positions, batch.generation);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.committed, batch.positions.filter((p) => p.queueId === otherQueue));
    assert.deepEqual(res.body.fenced, [{ queueId: resetQueue, reason: 'REASSIGNED' }]);

    const all = await c.commit(batch.positions.filter((p) => p.queueId === resetQueue), batch.generation);
    assert.equal(all.status, 409);
    assert.equal(all.body.error.code, 'REBALANCED');
    assert.deepEqual(all.body.error.details.fenced, [{ queueId: resetQueue, reason: 'REASSIGNED' }]);
    assert.equal((await committedOffsets(group)).get(resetQueue), 0);
  });
});

describe('fail: only messages the consumer can have received', () => {
  test('an id past the queue end is 400, one the group committed past is 409 ALREADY_COMMITTED; a fail reported before its commit stays idempotent', async () => {
    const topic = uniqueName('failrange');
    const group = uniqueName('g');
    const queueId = (await createTopic(t.api, topic, 1)).queues[0]!.id;
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c');
    const sent = await produce(t.api, topic, Array.from({ length: 5 }, (_, i) => ({ body: i })));
    const ids = sent.map((s) => s.id);
    const batch = await c.pulled({ max: 10 });
    assert.equal(batch.messages.length, 5);
    const fail = (id: number) => t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, { messages: [{ queueId, id }], generation: batch.generation });

    assert.equal((await fail(ids[4]!)).status, 200, 'reported before its commit');
    assert.equal((await c.commit([{ queueId, offset: ids[4]! }], batch.generation)).status, 200);
    const again = await fail(ids[4]!);
    assert.equal(again.status, 200, 'the same report again, after the commit, is a duplicate, not an error');
    assert.equal(again.body.failed[0].duplicate, true);

    const committedPast = await fail(ids[1]!);
    assert.equal(committedPast.status, 409);
    assert.equal(committedPast.body.error.code, 'ALREADY_COMMITTED');
    assert.deepEqual(committedPast.body.error.details, { queueId, id: ids[1], committedOffset: ids[4] });

    const pastEnd = await fail(ids[4]! + 100);
    assert.equal(pastEnd.status, 400);
    assert.equal(pastEnd.body.error.code, 'OFFSET_OUT_OF_RANGE');
    assert.equal(pastEnd.body.error.details.maxId, ids[4]);

    assert.equal(await t.sql.count('failed_message', 'queue_id = ?', [queueId]), 1, 'only the first report was recorded');
  });
});

describe('leave ends a waiting pull cleanly', () => {
  test('a pull waiting when its consumer leaves answers 200 with no messages, not 404', async () => {
    const { group } = await topicAndGroup('leave', 1);
    const c = await joinGroup(t.api, group, 'c');
    const started = Date.now();
    const waiting = c.pull({ waitMs: 20_000 });
    await untilPullWaits(t.api);
    assert.equal((await c.leave()).status, 200);
    const answer = await waiting;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.messages, []);
    assert.ok(Date.now() - started < 10_000, 'answered at the leave, not at the end of waitMs');
    const later = await c.pull({ waitMs: 0 });
    assert.equal(later.status, 404, 'a pull sent after the leave is refused');
    assert.equal(later.body.error.code, 'CONSUMER_EXPIRED');
  });

  test('also when the pull waits on another broker than the one the leave went to', async () => {
    const other = await startBroker(testConfig(t.database.url, { pullPollIntervalMs: 100 }), createLogger('error', 'second-broker'));
    try {
      const api2 = apiClient(`http://127.0.0.1:${other.port}`);
      const { group } = await topicAndGroup('leave2', 1);
      const c = await joinGroup(t.api, group, 'c');
      const waiting = api2.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/pull`, { waitMs: 20_000 });
      await untilPullWaits(api2);
      assert.equal((await c.leave()).status, 200);
      const answer = await waiting;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.messages, []);
    } finally {
      await other.stop();
    }
  });
});

describe('pull answers bounded in bytes', () => {
  /** Messages whose JSON in a pull answer is a little over 10 kB each. */
  const large = (n: number) => Array.from({ length: n }, (_, i) => ({ body: { i, pad: 'x'.repeat(10_000) } }));
  const jsonBytes = (messages: unknown[]) => messages.reduce((n: number, m) => n + Buffer.byteLength(JSON.stringify(m)), 0);

  test('a pull hands out at most maxBytes of messages, and one message however large, so no queue stalls', async () => {
    const { topic, group } = await topicAndGroup('bytes', 1);
    const c = await joinGroup(t.api, group, 'c');
    const sent = await produce(t.api, topic, large(8));
    const two = await c.pulled({ max: 100, maxBytes: 25_000 });
    assert.deepEqual(two.messages.map((m) => m.id), sent.slice(0, 2).map((s) => s.id), 'two ~10 kB messages fit in 25 kB, three do not');
    assert.ok(jsonBytes(two.messages) <= 25_000);
    const got = [...two.messages];
    let positions = two.positions;
    while (got.length < sent.length) {
      const one = await c.pulled({ max: 100, maxBytes: 1, positions });
      assert.equal(one.messages.length, 1, 'a message larger than maxBytes still comes, alone');
      got.push(...one.messages);
      positions = one.positions;
    }
    assert.deepEqual(got.map((m) => m.id), sent.map((s) => s.id), 'every message, once, in order');
  });

  test('pullMaxBytes caps the request and is the default', async () => {
    const { topic, group } = await topicAndGroup('cap', 2);
    const c = await joinGroup(t.api, group, 'c');
    await produceSpread(t.api, topic, large(20), 2);
    for (const body of [{ max: 1000, maxBytes: 10_000_000 }, { max: 1000 }]) {
      const batch = await c.pulled(body);
      assert.ok(batch.messages.length >= 1);
      assert.ok(jsonBytes(batch.messages) <= PULL_MAX_BYTES, `${jsonBytes(batch.messages)} bytes handed out`);
      assert.ok(batch.messages.length < 20);
    }
  });

  test('the read ahead for the next pull is bounded by the same bytes', async () => {
    const { topic, group } = await topicAndGroup('prefetch', 1);
    await produce(t.api, topic, large(20));
    // A broker of its own, so that its gauge counts this consumer's read ahead only.
    const other = await startBroker(testConfig(t.database.url), createLogger('error', 'prefetch-broker'));
    try {
      const api2 = apiClient(`http://127.0.0.1:${other.port}`);
      const c = await joinGroup(api2, group, 'c');
      const first = await c.pulled({ max: 1000, maxBytes: 25_000 });
      assert.equal(first.messages.length, 2);
      // The answer was cut by its bytes: the broker reads the next batch ahead, with the same bound.
      const deadline = Date.now() + 5_000;
      let held = 0;
      while (held === 0 && Date.now() < deadline) {
        held = metric((await api2.get('/metrics')).body, 'tablemq_pull_prefetched_bytes');
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(held > 0, 'a read ahead was made');
      assert.ok(held <= 25_000, `the read ahead holds ${held} bytes`);
      const second = await c.pulled({ max: 1000, maxBytes: 25_000, positions: first.positions });
      assert.equal(second.messages.length, 2);
      assert.equal(second.messages[0]!.id, first.messages[1]!.id + 1);
    } finally {
      await other.stop();
    }
  });

  test('a queue read keeps rows only up to its byte bound, the first whatever its size', async () => {
    const topic = uniqueName('read');
    const created = await createTopic(t.api, topic, 1);
    await produce(t.api, topic, large(10));
    const pool = mysql.createPool({ uri: t.database.url, connectionLimit: 1 });
    try {
      const range = { table: created.queues[0]!.table, topic, queueId: created.queues[0]!.id, afterId: 0, limit: 10 };
      const [bounded] = await readMessagesJson(pool, [{ ...range, maxBytes: 25_000 }]);
      assert.equal(bounded!.rows.length, 2);
      assert.equal(bounded!.returned, 10);
      assert.equal(bounded!.truncated, true);
      assert.ok(bounded!.largestRow > 10_000);
      const [tiny] = await readMessagesJson(pool, [{ ...range, maxBytes: 1 }]);
      assert.equal(tiny!.rows.length, 1);
      const [all] = await readMessagesJson(pool, [{ ...range, maxBytes: 1_000_000 }]);
      assert.equal(all!.rows.length, 10);
      assert.equal(all!.truncated, false);
    } finally {
      await pool.end();
    }
  });
});
