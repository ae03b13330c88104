import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from './helpers/wait';
import { createGroup, createTopic, joinGroup, startTestBroker, uniqueName, type Pulled, type TestBroker, type TestConsumer } from './helpers/broker';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('delays', { maxDelayMs: 60_000 });
});
after(async () => {
  await t?.close();
});

/** Pulls until `count` messages arrived, stamping each with the time it was received. */
async function receive(c: TestConsumer, count: number, timeoutMs: number) {
  const got: (Pulled['messages'][number] & { receivedAt: number })[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    const batch = await c.pulled({ max: 500, waitMs: 1000 });
    const receivedAt = Date.now();
    got.push(...batch.messages.map((m) => ({ ...m, receivedAt })));
    if (batch.positions.length > 0) await c.commit(batch.positions, batch.generation);
  }
  return got;
}

async function setup(label: string) {
  const topic = uniqueName(label);
  const group = uniqueName('g');
  await createTopic(t.api, topic, 2);
  await createGroup(t.api, group, [topic], 'earliest');
  return { topic, consumer: await joinGroup(t.api, group, 'c') };
}

describe('delayed delivery', () => {
  test('1,000 messages with random delays of 0–3 s each arrive no earlier than due and within 1.5 s after', async () => {
    const { topic, consumer } = await setup('random');
    const due = new Map<number, number>(); // body index → due time (ms since epoch)
    const sends = [];
    for (let r = 0; r < 10; r++) {
      const messages = Array.from({ length: 100 }, (_, k) => ({ body: { n: r * 100 + k }, delayMs: Math.floor(Math.random() * 3000) }));
      const sentAt = Date.now();
      sends.push(
        t.api.post(`/api/v1/topics/${topic}/messages`, { messages }).then((res) => {
          assert.equal(res.status, 201, JSON.stringify(res.body));
          (res.body.results as { dueAt?: string }[]).forEach((result, k) => {
            // A zero delay is delivered at once; otherwise the broker answers with its due time.
            due.set(r * 100 + k, result.dueAt ? Date.parse(result.dueAt) : sentAt);
          });
        }),
      );
    }
    await Promise.all(sends);
    const got = await receive(consumer, 1000, 10_000);
    assert.equal(got.length, 1000);
    const late: string[] = [];
    for (const m of got) {
      const n = (m.body as { n: number }).n;
      const dueAt = due.get(n)!;
      assert.ok(Date.parse(m.createdAt) >= dueAt - 1, `message ${n} entered its topic ${dueAt - Date.parse(m.createdAt)} ms early`);
      assert.ok(m.receivedAt >= dueAt - 5, `message ${n} was received ${dueAt - m.receivedAt} ms before due`);
      if (m.receivedAt - dueAt > 1500) late.push(`${n}: ${m.receivedAt - dueAt} ms`);
    }
    assert.deepEqual(late, [], 'every message arrived within 1.5 s of its due time');
  });

  test('a message due later does not hold back one due sooner', async () => {
    const { topic, consumer } = await setup('order');
    const late = await t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: 'late', delayMs: 3000 }] });
    assert.equal(late.status, 201);
    const started = Date.now();
    await t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: 'early', delayMs: 300 }] });
    const [first] = await receive(consumer, 1, 2500);
    assert.equal(first?.body, 'early');
    assert.ok(first.receivedAt - started >= 300 && first.receivedAt - started < 1500, `early arrived after ${first.receivedAt - started} ms`);
  });

  test('a delayed produce is stored before it is answered, and deliverAt works too', async () => {
    const { topic, consumer } = await setup('durable');
    const before = await t.sql.count('scheduled_message');
    const at = new Date(Date.now() + 800).toISOString();
    const res = await t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: 'x', deliverAt: at }, { body: 'now' }] });
    assert.equal(res.status, 201);
    assert.equal(res.body.results[0].queueId, null);
    assert.equal(typeof res.body.results[0].scheduledId, 'number');
    assert.equal(typeof res.body.results[1].id, 'number', 'an undelayed message is stored at once');
    assert.equal(await t.sql.count('scheduled_message'), before + 1);
    const got = await receive(consumer, 2, 3000);
    assert.deepEqual(got.map((m) => m.body), ['now', 'x']);
    assert.ok(got[1]!.receivedAt >= Date.parse(at) - 5);
  });

  test('a delay above the maximum, or both delayMs and deliverAt, is a 400 and stores nothing', async () => {
    const { topic } = await setup('invalid');
    const before = await t.sql.count('scheduled_message');
    const tooLong = await t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: 1 }, { body: 2, delayMs: 61_000 }] });
    assert.equal(tooLong.status, 400);
    const both = await t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: 1, delayMs: 10, deliverAt: new Date().toISOString() }] });
    assert.equal(both.status, 400);
    assert.equal(await t.sql.count('scheduled_message'), before);
  });
});

describe('a scheduled message that cannot be delivered', () => {
  test('does not hold up other topics: it is postponed with a backoff, counted, shown, and delivered once its topic is writable again', async () => {
    const poisoned = await setup('poisoned');
    const healthy = await setup('healthy');
    const poisonedQueues = (await t.api.get(`/api/v1/admin/topics/${poisoned.topic}`)).body.queues as { id: number }[];
    const setWritable = async (writable: boolean) => {
      for (const q of poisonedQueues) {
        const res = await t.api.patch(`/api/v1/admin/topics/${poisoned.topic}/queues/${q.id}`, { writable });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
    };
    // Scheduled while writable; every queue of the topic stops taking writes before it is due
    // (a generous delay: the PATCH must land first even on a busy machine).
    assert.equal((await t.api.post(`/api/v1/topics/${poisoned.topic}/messages`, { messages: [{ body: 'stuck', delayMs: 1500 }] })).status, 201);
    await setWritable(false);
    const entry = await waitFor(
      'the poisoned message to be postponed',
      async () => {
        const scheduled = await t.api.get('/api/v1/admin/scheduled');
        assert.equal(scheduled.status, 200);
        const found = scheduled.body.topics.find((x: { topic: string }) => x.topic === poisoned.topic);
        return found?.postponed >= 1 ? found : undefined;
      },
      10_000,
    );
    assert.equal(entry.waiting, 1);
    assert.ok(entry.maxAttempts >= 1);
    assert.match(entry.lastError, /NO_WRITABLE_QUEUE/);
    assert.ok(Date.parse(entry.nextAttemptAt) > Date.now() - 1000);

    // Due while the poisoned row sits in the schedule: delivered all the same.
    assert.equal((await t.api.post(`/api/v1/topics/${healthy.topic}/messages`, { messages: [{ body: 'later', delayMs: 100 }] })).status, 201);
    const got = await receive(healthy.consumer, 1, 10_000);
    assert.deepEqual(got.map((m) => m.body), ['later'], 'the other topic is delivered while the poisoned row waits');

    const metrics = (await t.api.get('/metrics')).body as string;
    assert.match(metrics, new RegExp(`tablemq_scheduled_postponed_total\\{topic="${poisoned.topic}"\\} [1-9]`));

    // A new delayed produce to a topic with no writable queue is refused up front, like an immediate one.
    const refused = await t.api.post(`/api/v1/topics/${poisoned.topic}/messages`, { messages: [{ body: 'x', delayMs: 100 }] });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'NO_WRITABLE_QUEUE');

    await setWritable(true);
    await t.broker.ctx.catalog.reload();
    const late = await receive(poisoned.consumer, 1, 10_000);
    assert.deepEqual(late.map((m) => m.body), ['stuck']);
    assert.equal(await t.sql.count('scheduled_message'), 0);
  });
});
