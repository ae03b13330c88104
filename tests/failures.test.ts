import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopic, drain, joinGroup, produce, startTestBroker, uniqueName, type Pulled, type TestBroker, type TestConsumer } from './helpers/broker';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('failures', { schedulerPollMs: 50 });
});
after(async () => {
  await t?.close();
});

async function groupOn(topic: string, sub: Record<string, unknown> = {}) {
  const group = uniqueName('g');
  await t.api.post('/api/v1/admin/groups', { name: group });
  const res = await t.api.post(`/api/v1/admin/groups/${group}/subscriptions`, { topic, start: 'earliest', ...sub });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { group, subscription: res.body };
}

/**
 * Pulls until `expected` messages arrived, without committing (a consumer fails messages before it
 * commits past them); `commit()` then commits everything received.
 */
async function receive(c: TestConsumer, expected: number, timeoutMs = 5000) {
  const messages: Pulled['messages'] = [];
  let last: Pulled | undefined;
  const deadline = Date.now() + timeoutMs;
  while (messages.length < expected && Date.now() < deadline) {
    last = await c.pulled({ max: 100, waitMs: 200, ...(last ? { positions: last.positions } : {}) });
    messages.push(...last.messages);
  }
  return {
    messages,
    async commit() {
      if (!last || last.positions.length === 0) return;
      const res = await c.commit(last.positions, last.generation);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    },
  };
}

describe('failed messages', () => {
  test('subscribing creates the group retry and dead topics and reads the retry topic', async () => {
    const topic = uniqueName('side');
    await createTopic(t.api, topic, 1);
    const { group, subscription } = await groupOn(topic);
    assert.equal(subscription.retryTopic, `${group}.${topic}.retry`);
    assert.equal(subscription.deadTopic, `${group}.${topic}.dead`);
    const retry = await t.api.get(`/api/v1/admin/topics/${subscription.retryTopic}`);
    assert.equal(retry.body.kind, 'retry');
    assert.equal((await t.api.get(`/api/v1/admin/topics/${subscription.deadTopic}`)).body.kind, 'dead');
    const g = await t.api.get(`/api/v1/admin/groups/${group}`);
    assert.deepEqual(g.body.subscriptions.map((s: { topic: string }) => s.topic), [topic, subscription.retryTopic]);
  });

  test('a message failed every time comes back after each growing backoff, then lands in the dead topic', async () => {
    const topic = uniqueName('retry');
    await createTopic(t.api, topic, 1);
    const { group } = await groupOn(topic, { maxRetries: 3, backoffMs: [200, 500, 900] });
    const c = await joinGroup(t.api, group, 'c');
    await produce(t.api, topic, [{ body: { order: 7 }, key: 'k7', headers: { source: 'test' } }]);
    const arrivals: { at: number; retryCount: number }[] = [];
    let failedAt = 0;
    const gaps: number[] = [];
    for (let attempt = 0; attempt <= 3; attempt++) {
      const received = await receive(c, 1);
      const [m] = received.messages;
      assert.ok(m, `attempt ${attempt} arrived`);
      if (failedAt) gaps.push(Date.now() - failedAt);
      arrivals.push({ at: Date.now(), retryCount: m.retryCount });
      assert.deepEqual(m.body, { order: 7 });
      const failed = await t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, { messages: [{ queueId: m.queueId, id: m.id }], reason: `boom ${attempt}` });
      assert.equal(failed.status, 200, JSON.stringify(failed.body));
      assert.equal(failed.body.failed[0].outcome, attempt < 3 ? 'retry' : 'dead');
      failedAt = Date.now();
      await received.commit();
    }
    assert.deepEqual(arrivals.map((a) => a.retryCount), [0, 1, 2, 3]);
    gaps.forEach((gap, i) => assert.ok(gap >= [200, 500, 900][i]!, `retry ${i + 1} came after ${gap} ms`));
    assert.ok(gaps[2]! > gaps[0]!, 'delays grow');

    let dead: { messages: { body: unknown; reason: string; retryCount: number; headers: Record<string, string> }[] } = { messages: [] };
    for (let i = 0; i < 40 && dead.messages.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      dead = (await t.api.get(`/api/v1/admin/groups/${group}/dead-messages`)).body;
    }
    assert.equal(dead.messages.length, 1);
    assert.deepEqual(dead.messages[0]!.body, { order: 7 });
    assert.equal(dead.messages[0]!.reason, 'boom 3');
    assert.equal(dead.messages[0]!.retryCount, 3);
    assert.equal(dead.messages[0]!.headers['x-tablemq-origin-topic'], topic);
    assert.equal(dead.messages[0]!.headers.source, 'test');
    assert.equal((await c.pulled({ waitMs: 300 })).messages.length, 0, 'nothing comes back from the dead topic by itself');

    const resent = await t.api.post(`/api/v1/admin/groups/${group}/dead-messages/resend`, { all: true });
    assert.equal(resent.status, 200);
    assert.equal(resent.body.resent, 1);
    const [again] = await drain(c, 1, 3000);
    assert.deepEqual(again?.body, { order: 7 });
    assert.equal(again?.retryCount, 0, 'resend resets the retry count');
    assert.equal((await t.api.get(`/api/v1/admin/groups/${group}/dead-messages`)).body.messages.length, 0);
    assert.ok((await t.sql.count('audit_log', 'action = ?', ['dead.resend'])) >= 1);
  });

  test('reporting the same failure twice schedules one retry', async () => {
    const topic = uniqueName('dup');
    await createTopic(t.api, topic, 1);
    const { group } = await groupOn(topic, { backoffMs: [60_000] });
    const c = await joinGroup(t.api, group, 'c');
    await produce(t.api, topic, [{ body: 1 }]);
    const [m] = (await receive(c, 1)).messages;
    const body = { messages: [{ queueId: m!.queueId, id: m!.id }, { queueId: m!.queueId, id: m!.id }] };
    const first = await t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, body);
    const second = await t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, body);
    assert.equal(first.status, 200);
    assert.equal(first.body.failed.length, 1);
    assert.equal(first.body.failed[0].duplicate, false);
    assert.equal(second.body.failed[0].duplicate, true);
    const retryTopic = (await t.api.get(`/api/v1/admin/topics/${group}.${topic}.retry`)).body;
    assert.equal(await t.sql.count('scheduled_message', 'topic_id = ?', [retryTopic.id]), 1);
  });

  test('a consumer that does not own the queue cannot fail its messages', async () => {
    const topic = uniqueName('notmine');
    await createTopic(t.api, topic, 1);
    const { group } = await groupOn(topic);
    const owner = await joinGroup(t.api, group, 'owner');
    await produce(t.api, topic, [{ body: 1 }]);
    const [m] = await drain(owner, 1);
    const other = await joinGroup(t.api, group, 'other');
    const ownerQueues = await owner.queues();
    const queueOwner = ownerQueues.includes(m!.queueId) ? owner : other;
    const stranger = queueOwner === owner ? other : owner;
    const res = await t.api.post(`/api/v1/groups/${group}/consumers/${stranger.consumerId}/fail`, { messages: [{ queueId: m!.queueId, id: m!.id }] });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'REBALANCED');
    assert.equal(await t.sql.count('failed_message', 'queue_id = ? AND message_id = ?', [m!.queueId, m!.id]), 0);
  });

  test('purging dead messages removes them', async () => {
    const topic = uniqueName('purge');
    await createTopic(t.api, topic, 1);
    const { group } = await groupOn(topic, { maxRetries: 0 });
    const c = await joinGroup(t.api, group, 'c');
    await produce(t.api, topic, [{ body: 'a' }, { body: 'b' }]);
    const got = (await receive(c, 2)).messages;
    const res = await t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, { messages: got.map((m) => ({ queueId: m.queueId, id: m.id })) });
    assert.deepEqual(res.body.failed.map((f: { outcome: string }) => f.outcome), ['dead', 'dead']);
    let dead: { queueId: number; id: number }[] = [];
    for (let i = 0; i < 40 && dead.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      dead = (await t.api.get(`/api/v1/admin/groups/${group}/dead-messages?topic=${topic}`)).body.messages;
    }
    assert.equal(dead.length, 2);
    const purged = await t.api.post(`/api/v1/admin/groups/${group}/dead-messages/purge`, { messages: [{ queueId: dead[0]!.queueId, id: dead[0]!.id }] });
    assert.equal(purged.body.purged, 1);
    assert.equal((await t.api.get(`/api/v1/admin/groups/${group}/dead-messages`)).body.messages.length, 1);
  });
});

describe('tag filter', () => {
  test('a group that names tags receives only those, and its lag reaches 0', async () => {
    const topic = uniqueName('tags');
    await createTopic(t.api, topic, 2);
    const { group } = await groupOn(topic, { tags: ['paid', 'refunded'] });
    const c = await joinGroup(t.api, group, 'c');
    const tags = ['paid', 'created', 'refunded', 'shipped', undefined];
    await produce(t.api, topic, Array.from({ length: 50 }, (_, i) => ({ body: i, ...(tags[i % 5] ? { tag: tags[i % 5] } : {}) })));
    const got = await drain(c, 20, 3000);
    assert.equal(got.length, 20);
    assert.ok(got.every((m) => m.tag === 'paid' || m.tag === 'refunded'));
    assert.equal((await c.pulled({ waitMs: 200 })).messages.length, 0);
    const lag = await t.api.get(`/api/v1/admin/groups/${group}/lag`);
    assert.equal(lag.body.totalLag, 0, JSON.stringify(lag.body.queues));
  });
});

describe('message lookup', () => {
  test('by key, by time range and by queue and id, paginated', async () => {
    const topic = uniqueName('lookup');
    await createTopic(t.api, topic, 3);
    const sent = await produce(t.api, topic, Array.from({ length: 30 }, (_, i) => ({ body: i, key: i % 3 === 0 ? 'vip' : `k${i}` })));
    const byKey = await t.api.get(`/api/v1/admin/topics/${topic}/messages?key=vip`);
    assert.equal(byKey.status, 200);
    assert.deepEqual(byKey.body.messages.map((m: { body: number }) => m.body).sort((a: number, b: number) => a - b), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);

    const seen: number[] = [];
    let after: string | null = null;
    do {
      const page: { body: { messages: { body: number }[]; next: string | null } } = await t.api.get(
        `/api/v1/admin/topics/${topic}/messages?limit=7&from=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}${after ? `&after=${after}` : ''}`,
      );
      seen.push(...page.body.messages.map((m) => m.body));
      after = page.body.next;
    } while (after);
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));

    const future = await t.api.get(`/api/v1/admin/topics/${topic}/messages?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.equal(future.body.messages.length, 0);
    const one = await t.api.get(`/api/v1/admin/topics/${topic}/messages?queueId=${sent[4]!.queueId}&id=${sent[4]!.id}`);
    assert.deepEqual(one.body.messages.map((m: { body: number }) => m.body), [4]);
    assert.equal((await t.api.get(`/api/v1/admin/topics/${topic}/messages?limit=abc`)).status, 400);
  });
});
