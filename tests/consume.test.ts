import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGroup, createTopic, drain, joinGroup, produce, produceSpread, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { waitFor } from './helpers/wait';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('consume', { sessionTimeoutMs: 30_000 });
});
after(async () => {
  await t?.close();
});


describe('pull and commit', () => {
  test('a consumer receives every message in id order per queue, and nothing again after committing', async () => {
    const topic = uniqueName('basic');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    assert.equal(c.registered.heartbeatIntervalMs, 5000);
    assert.equal(c.registered.sessionTimeoutMs, 30000);
    const sent = await produce(t.api, topic, Array.from({ length: 50 }, (_, i) => ({ body: { i }, tag: 't', key: `k${i}` })));
    const got = await drain(c, 50);
    assert.equal(got.length, 50);
    const key = (m: { queueId: number; id: number }) => `${m.queueId}:${m.id}`;
    assert.deepEqual(new Set(got.map(key)), new Set(sent.map(key)));
    for (const q of new Set(got.map((m) => m.queueId))) {
      const ids = got.filter((m) => m.queueId === q).map((m) => m.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    }
    const again = await c.pulled({ waitMs: 0 });
    assert.equal(again.messages.length, 0);
  });

  test('a pulled message carries exactly what was produced, whatever characters its fields hold', async () => {
    const topic = uniqueName('fields');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 1);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    const sent = {
      body: { text: 'quote " backslash \\ newline \n tab \t nul \u0000 é 😀 </script>', n: -1.5e-7, list: [true, null, { deep: 'x' }] },
      key: 'key "quoted" \\ \n é 😀',
      tag: "tag'with\"quotes",
      traceId: 'trace\\one',
      headers: { 'content-type': 'application/json', 'x-odd': 'a"b\\c\u0001' },
    };
    const plain = { body: 'just a string' };
    const [first, second] = await produce(t.api, topic, [sent, plain]);
    const [a, b] = (await c.pulled({ max: 10 })).messages;
    assert.deepEqual(
      { body: a!.body, key: a!.key, tag: a!.tag, traceId: (a as unknown as { traceId: string }).traceId, headers: (a as unknown as { headers: unknown }).headers },
      sent,
    );
    assert.equal(a!.topic, topic);
    assert.equal(a!.queueId, first!.queueId);
    assert.equal(a!.id, first!.id);
    assert.equal(a!.retryCount, 0);
    assert.match(a!.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(b, { topic, queueId: second!.queueId, id: second!.id, body: 'just a string', key: null, tag: null, traceId: null, headers: null, retryCount: 0, createdAt: b!.createdAt });
    const one = await t.api.get(`/api/v1/topics/${topic}/queues/${first!.queueId}/messages/${first!.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, a, 'GET of one message answers the same JSON as the pull');
  });

  test('re-registering the same name returns the same consumer id', async () => {
    const group = uniqueName('g');
    await createGroup(t.api, group);
    const a = await joinGroup(t.api, group, 'same');
    const b = await joinGroup(t.api, group, 'same');
    assert.equal(a.consumerId, b.consumerId);
  });

  test('pull respects max and spreads across queues', async () => {
    const topic = uniqueName('fair');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 4);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    await produceSpread(t.api, topic, Array.from({ length: 400 }, (_, i) => ({ body: i })), 4);
    const batch = await c.pulled({ max: 40 });
    assert.equal(batch.messages.length, 40);
    const perQueue = new Map<number, number>();
    for (const m of batch.messages) perQueue.set(m.queueId, (perQueue.get(m.queueId) ?? 0) + 1);
    assert.deepEqual([...perQueue.values()], [10, 10, 10, 10]);
  });

  test('positions let a client pull ahead of its commits', async () => {
    const topic = uniqueName('pipe');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 1);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    await produce(t.api, topic, Array.from({ length: 30 }, (_, i) => ({ body: i })));
    const first = await c.pulled({ max: 10 });
    const second = await c.pulled({ max: 10, positions: first.positions });
    assert.deepEqual(second.messages.map((m) => m.body), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const uncommitted = await c.pulled({ max: 10 });
    assert.deepEqual(uncommitted.messages.map((m) => m.body), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'without positions a pull starts at the commit');
  });

  test("each answer's positions cover the queues of earlier answers too, so chaining them never re-delivers", async () => {
    const topic = uniqueName('chain');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    await produceSpread(t.api, topic, Array.from({ length: 8 }, (_, i) => ({ body: i })), 8);
    const seen: string[] = [];
    let positions: { queueId: number; offset: number }[] | undefined;
    for (let i = 0; i < 8; i++) {
      // One message a pull: each answer advances one queue only.
      const batch = await c.pulled({ max: 1, ...(positions ? { positions } : {}) });
      assert.equal(batch.messages.length, 1);
      seen.push(`${batch.messages[0]!.queueId}:${batch.messages[0]!.id}`);
      positions = batch.positions;
    }
    assert.equal(new Set(seen).size, 8, `delivered ${seen.join(' ')}`);
    const empty = await c.pulled({ max: 1, positions });
    assert.equal(empty.messages.length, 0);
    assert.deepEqual(empty.positions, positions, 'an empty answer hands the positions back');
    assert.equal((await c.commit(empty.positions, empty.generation)).status, 200);
    assert.equal((await c.pulled({ max: 10 })).messages.length, 0, 'committing the last positions covers all eight');
  });

  test('a commit above the queue max id is a 400 and one below the committed offset is ignored', async () => {
    const topic = uniqueName('range');
    const group = uniqueName('g');
    const created = await createTopic(t.api, topic, 1);
    const queueId = created.queues[0]!.id;
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    const sent = await produce(t.api, topic, Array.from({ length: 10 }, (_, i) => ({ body: i })));
    const last = sent[sent.length - 1]!.id;
    const tooFar = await c.commit([{ queueId, offset: last + 1 }]);
    assert.equal(tooFar.status, 400);
    assert.equal(tooFar.body.error.code, 'OFFSET_OUT_OF_RANGE');
    assert.equal((await c.commit([{ queueId, offset: last }])).status, 200);
    assert.equal((await c.commit([{ queueId, offset: 2 }])).status, 200);
    const lag = await t.api.get(`/api/v1/admin/groups/${group}/lag`);
    assert.equal(lag.body.queues[0].committed, last, 'no rewind');
    assert.equal(lag.body.queues[0].lag, 0);
  });

  test('a subscription starting at latest skips what was produced before it', async () => {
    const topic = uniqueName('latest');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await produce(t.api, topic, Array.from({ length: 10 }, (_, i) => ({ body: `old-${i}` })));
    await createGroup(t.api, group, [topic], 'latest');
    const c = await joinGroup(t.api, group, 'c1');
    await produce(t.api, topic, [{ body: 'new-1' }, { body: 'new-2' }]);
    const got = await drain(c, 2, 3000);
    assert.deepEqual(got.map((m) => m.body).sort(), ['new-1', 'new-2']);
  });

  test('a paused group receives nothing until resumed', async () => {
    const topic = uniqueName('pause');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 1);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    await produce(t.api, topic, [{ body: 1 }]);
    assert.equal((await t.api.post(`/api/v1/admin/groups/${group}/pause`)).status, 200);
    assert.equal((await c.pulled({ waitMs: 300 })).messages.length, 0);
    await t.api.post(`/api/v1/admin/groups/${group}/resume`);
    assert.equal((await c.pulled({ waitMs: 300 })).messages.length, 1);
  });
});

describe('long-poll', () => {
  test('a pull waiting 5 s returns within 100 ms of a produce', async () => {
    const topic = uniqueName('lp');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 1);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    const started = Date.now();
    const waiting = c.pulled({ waitMs: 5000 });
    await waitFor('the pull to wait', async () => t.broker.ctx.waitingPulls.size > 0, 5_000, 5);
    const producedAt = Date.now();
    await produce(t.api, topic, [{ body: 'wake' }]);
    const got = await waiting;
    const answeredAt = Date.now();
    assert.equal(got.messages.length, 1);
    assert.ok(answeredAt - producedAt < 100, `answered ${answeredAt - producedAt} ms after the produce`);
    assert.ok(answeredAt - started < 2000);
  });

  test('an empty long-poll returns after about waitMs', async () => {
    const topic = uniqueName('lp-empty');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 1);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    const started = Date.now();
    const got = await c.pulled({ waitMs: 400 });
    const took = Date.now() - started;
    assert.equal(got.messages.length, 0);
    assert.ok(took >= 380 && took < 1500, `took ${took} ms`);
  });
});

describe('offset reset', () => {
  test('a reset to a timestamp delivers exactly the messages created after it', async () => {
    const topic = uniqueName('reset');
    const group = uniqueName('g');
    const created = await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    await produceSpread(t.api, topic, Array.from({ length: 20 }, (_, i) => ({ body: `before-${i}` })), 2);
    // Push the first batch a minute into the past so the boundary is exact whatever the clocks do.
    for (const q of created.queues) await t.sql.rows(`UPDATE \`${q.table}\` SET created_at = created_at - INTERVAL 60 SECOND`);
    const boundary = new Date(Date.now() - 30_000).toISOString();
    await produceSpread(t.api, topic, Array.from({ length: 6 }, (_, i) => ({ body: `after-${i}` })), 2);
    await drain(c, 26);
    const reset = await t.api.post(`/api/v1/admin/groups/${group}/offsets/reset`, { topic, to: { timestamp: boundary } });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    const again = await drain(c, 6, 3000);
    assert.deepEqual(again.map((m) => m.body).sort(), ['after-0', 'after-1', 'after-2', 'after-3', 'after-4', 'after-5']);
    const audit = await t.sql.count('audit_log', 'action = ? AND target = ?', ['group.offsets.reset', `group:${group}`]);
    assert.equal(audit, 1);
  });

  test('a reset to earliest replays everything and fences commits from before it', async () => {
    const topic = uniqueName('reset-e');
    const group = uniqueName('g');
    const created = await createTopic(t.api, topic, 1);
    const queueId = created.queues[0]!.id;
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    await produce(t.api, topic, Array.from({ length: 5 }, (_, i) => ({ body: i })));
    const first = await c.pulled();
    const reset = await t.api.post(`/api/v1/admin/groups/${group}/offsets/reset`, { topic, to: 'earliest' });
    assert.equal(reset.status, 200);
    const stale = await c.commit(first.positions, first.generation);
    assert.equal(stale.status, 409, 'a commit from before the reset is fenced');
    assert.equal(stale.body.error.code, 'REBALANCED');
    const replay = await drain(c, 5, 3000);
    assert.deepEqual(replay.map((m) => m.body), [0, 1, 2, 3, 4]);
    const lag = await t.api.get(`/api/v1/admin/groups/${group}/lag`);
    assert.equal(lag.body.queues.find((q: { queueId: number }) => q.queueId === queueId).lag, 0);
  });

  test('a reset to a specific id starts after it', async () => {
    const topic = uniqueName('reset-id');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 1);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    const sent = await produce(t.api, topic, Array.from({ length: 10 }, (_, i) => ({ body: i })));
    await drain(c, 10);
    const res = await t.api.post(`/api/v1/admin/groups/${group}/offsets/reset`, { topic, to: { id: sent[6]!.id } });
    assert.equal(res.status, 200);
    const again = await drain(c, 3, 3000);
    assert.deepEqual(again.map((m) => m.body), [7, 8, 9]);
  });
});

describe('admin views', () => {
  test('lag and consumer listings show ownership and progress', async () => {
    const topic = uniqueName('views');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'viewer');
    await produce(t.api, topic, Array.from({ length: 8 }, (_, i) => ({ body: i })));
    const lag = await t.api.get(`/api/v1/admin/groups/${group}/lag`);
    assert.equal(lag.body.totalLag, 8);
    assert.ok(lag.body.queues.every((q: { consumerId: number }) => q.consumerId === c.consumerId));
    const consumers = await t.api.get(`/api/v1/admin/groups/${group}/consumers`);
    assert.equal(consumers.body.consumers.length, 1);
    assert.equal(consumers.body.consumers[0].name, 'viewer');
    assert.equal(consumers.body.consumers[0].queues.length, 3, "the topic's 2 queues and the group's retry queue");
    assert.equal(consumers.body.consumers[0].alive, true);
  });
});
