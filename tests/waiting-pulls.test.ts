import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBroker, type Broker } from '../broker/server';
import { createLogger } from '../shared/logger';
import { apiClient, createGroup, createTopic, drain, joinGroup, produce, produceSpread, startTestBroker, testConfig, uniqueName, type Api, type TestBroker } from './helpers/broker';

// Two brokers on one metadata database: rows produced through one are not announced to the other,
// which finds them only through its shared watch of the queues its pulls wait on.
const POLL_MS = 200;
let a: TestBroker;
let b: Broker;
let bApi: Api;
before(async () => {
  const settings = { pullPollIntervalMs: POLL_MS, sessionTimeoutMs: 1500, heartbeatIntervalMs: 300 };
  a = await startTestBroker('waiting_pulls', settings);
  b = await startBroker(testConfig(a.database.url, settings), createLogger('error', 'test-broker-b'));
  bApi = apiClient(`http://127.0.0.1:${b.port}`);
});
after(async () => {
  await b?.stop();
  await a?.close();
});

async function waitUntil(condition: () => boolean | Promise<boolean>, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once `n` pulls wait on broker b. */
const waitingOnB = (n: number): Promise<void> => waitUntil(() => b.ctx.waitingPulls.size === n, `${n} pulls waiting on b`);

/** A fresh topic of `queues` queues and a group subscribed to it, made through broker a. */
async function topicAndGroup(prefix: string, queues: number): Promise<{ topic: string; group: string }> {
  const topic = uniqueName(prefix);
  const group = uniqueName('g');
  await createTopic(a.api, topic, queues);
  await createGroup(a.api, group, [topic]);
  return { topic, group };
}

describe('waiting pulls', () => {
  test('a message produced through another broker wakes a pull waiting here within about one poll interval', async () => {
    const { topic, group } = await topicAndGroup('cross', 2);
    const consumer = await joinGroup(bApi, group, 'c');
    const waitMs = 10_000;
    const pulled = consumer.pulled({ waitMs });
    await waitingOnB(1);
    const produced = Date.now();
    await produce(a.api, topic, [{ body: 'hello' }]);
    const batch = await pulled;
    const latency = Date.now() - produced;
    assert.deepEqual(batch.messages.map((m) => m.body), ['hello']);
    // Generous for a loaded test machine, and far below the long-poll's end that a missed wake-up would wait for.
    assert.ok(latency < POLL_MS + 1500, `woken after ${latency} ms`);
  });

  test('a rebalance through another broker wakes a pull waiting here, which then reads its new queue', async () => {
    const { topic, group } = await topicAndGroup('moved', 2);
    const here = await joinGroup(bApi, group, 'here');
    const there = await joinGroup(a.api, group, 'there');
    const [theirQueue] = await there.queues();
    const results = await produceSpread(a.api, topic, [{ body: 1 }, { body: 2 }, { body: 3 }, { body: 4 }], 4);
    const theirs = results.filter((r) => r.queueId === theirQueue).length;
    assert.ok(theirs > 0 && theirs < 4, 'messages went to both queues');
    assert.equal((await drain(here, 4 - theirs, 5_000)).length, 4 - theirs);

    const pulled = here.pulled({ waitMs: 10_000 });
    await waitingOnB(1);
    const left = Date.now();
    assert.equal((await there.leave()).status, 200);
    const batch = await pulled;
    assert.equal(batch.messages.length, theirs, 'the queue handed over is read by the pull that was waiting');
    assert.ok(batch.messages.every((m) => m.queueId === theirQueue));
    assert.ok(Date.now() - left < POLL_MS + 1500, `woken after ${Date.now() - left} ms`);
  });

  test('resuming a paused group through another broker wakes its waiting pull', async () => {
    const { topic, group } = await topicAndGroup('paused', 1);
    const consumer = await joinGroup(bApi, group, 'c');
    await produce(a.api, topic, [{ body: 'held' }]);
    assert.equal((await a.api.post(`/api/v1/admin/groups/${group}/pause`)).status, 200);
    // Heartbeats while b's copy of the group catches up (the session is short).
    await waitUntil(async () => (await consumer.heartbeat()).status === 200 && (await b.ctx.catalog.group(group))?.paused === true);
    const pulled = consumer.pulled({ waitMs: 15_000 });
    await waitingOnB(1);
    const resumed = Date.now();
    assert.equal((await a.api.post(`/api/v1/admin/groups/${group}/resume`)).status, 200);
    const batch = await pulled;
    assert.deepEqual(batch.messages.map((m) => m.body), ['held']);
    // b learns of the resume at its next metadata refresh, then wakes the pull at its next watch.
    const bound = b.ctx.config.metadataRefreshMs + POLL_MS + 1500;
    assert.ok(Date.now() - resumed < bound, `woken after ${Date.now() - resumed} ms`);
  });

  test('a pull waiting longer than the session timeout keeps its consumer alive', async () => {
    const { group } = await topicAndGroup('alive', 1);
    const consumer = await joinGroup(bApi, group, 'c');
    const batch = await consumer.pulled({ waitMs: 3 * 1500 });
    assert.equal(batch.messages.length, 0);
    const beat = await consumer.heartbeat();
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
  });
});
