import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGroup, createTopic, joinGroup, produceSpread, startTestBroker, uniqueName, type TestBroker, type TestConsumer } from './helpers/broker';

let t: TestBroker;
before(async () => {
  // A short session so expiry can be watched within a test.
  t = await startTestBroker('rebalance', { sessionTimeoutMs: 1500, heartbeatIntervalMs: 300 });
});
after(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who owns which of the topic's queues (the group's retry topic queue is left out). */
async function ownership(consumers: TestConsumer[], topicQueues: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  for (const c of consumers) out.set(c.consumerId, (await c.queues()).filter((q) => topicQueues.includes(q)));
  return out;
}

const idsOf = (topic: { queues: { id: number }[] }) => topic.queues.map((q) => q.id);

function moved(before: Map<number, number[]>, after: Map<number, number[]>): number[] {
  const ownerBefore = new Map<number, number>();
  for (const [c, qs] of before) for (const q of qs) ownerBefore.set(q, c);
  const changed: number[] = [];
  for (const [c, qs] of after) for (const q of qs) if (ownerBefore.get(q) !== c) changed.push(q);
  return changed.sort((a, b) => a - b);
}

describe('rebalancing', () => {
  test('3 consumers split 12 queues 4/4/4; a 4th joining takes 3 and moves nothing else', async () => {
    const topic = uniqueName('twelve');
    const group = uniqueName('g');
    const queues = idsOf(await createTopic(t.api, topic, 12));
    await createGroup(t.api, group, [topic]);
    const cs = [await joinGroup(t.api, group, 'a'), await joinGroup(t.api, group, 'b'), await joinGroup(t.api, group, 'c')];
    const three = await ownership(cs, queues);
    assert.deepEqual([...three.values()].map((q) => q.length), [4, 4, 4]);
    assert.equal(new Set([...three.values()].flat()).size, 12);

    const d = await joinGroup(t.api, group, 'd');
    const four = await ownership([...cs, d], queues);
    assert.deepEqual([...four.values()].map((q) => q.length), [3, 3, 3, 3]);
    const changed = moved(three, four);
    assert.equal(changed.length, 3);
    assert.deepEqual(changed, [...(four.get(d.consumerId) ?? [])].sort((a, b) => a - b), 'only the newcomer received queues');
  });

  test('a consumer that leaves hands over only its own queues: 3 → 2 gives 6/6', async () => {
    const topic = uniqueName('leave');
    const group = uniqueName('g');
    const queues = idsOf(await createTopic(t.api, topic, 12));
    await createGroup(t.api, group, [topic]);
    const cs = [await joinGroup(t.api, group, 'a'), await joinGroup(t.api, group, 'b'), await joinGroup(t.api, group, 'c')];
    const before = await ownership(cs, queues);
    const leaver = cs[1]!;
    const leaverQueues = before.get(leaver.consumerId)!;
    assert.equal((await leaver.leave()).status, 200);
    const stayers = [cs[0]!, cs[2]!];
    const afterLeave = await ownership(stayers, queues);
    assert.deepEqual([...afterLeave.values()].map((q) => q.length), [6, 6]);
    before.delete(leaver.consumerId);
    assert.deepEqual(moved(before, afterLeave), [...leaverQueues].sort((a, b) => a - b));
    const gone = await leaver.heartbeat();
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'CONSUMER_EXPIRED');
  });

  test('a consumer that stops heartbeating loses its queues after the session timeout', async () => {
    const topic = uniqueName('expire');
    const group = uniqueName('g');
    const queues = idsOf(await createTopic(t.api, topic, 4));
    await createGroup(t.api, group, [topic]);
    const live = await joinGroup(t.api, group, 'live');
    const silent = await joinGroup(t.api, group, 'silent');
    const mineOf = async () => (await live.queues()).filter((q) => queues.includes(q));
    assert.equal((await mineOf()).length, 2);
    const deadline = Date.now() + 6000;
    let mine: number[] = [];
    while (Date.now() < deadline) {
      await sleep(300);
      mine = await mineOf(); // heartbeats as a live client would
      if (mine.length === 4) break;
    }
    assert.equal(mine.length, 4, 'the live consumer owns all four queues');
    const silentCall = await silent.pull({ waitMs: 0 });
    assert.equal(silentCall.status, 404);
    assert.equal(silentCall.body.error.code, 'CONSUMER_EXPIRED');
  });

  test('after a rebalance the old owner cannot commit and the offset does not move', async () => {
    const topic = uniqueName('fence');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const a = await joinGroup(t.api, group, 'a');
    await produceSpread(t.api, topic, Array.from({ length: 10 }, (_, i) => ({ body: i })), 2);
    const batch = await a.pulled();
    assert.equal(batch.messages.length, 10);
    const b = await joinGroup(t.api, group, 'b');
    const bQueues = await b.queues();
    assert.equal(bQueues.length, 1);
    const lost = batch.positions.filter((p) => bQueues.includes(p.queueId));
    const res = await a.commit(lost, batch.generation);
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'REBALANCED');
    assert.deepEqual(res.body.error.details.fenced, bQueues.map((queueId) => ({ queueId, reason: 'NOT_OWNED' })));
    const lag = await t.api.get(`/api/v1/admin/groups/${group}/lag`);
    const row = lag.body.queues.find((q: { queueId: number }) => q.queueId === bQueues[0]);
    assert.equal(row.committed, 0, 'the fenced commit did not move the offset');
    const kept = batch.positions.filter((p) => !bQueues.includes(p.queueId));
    assert.equal((await a.commit(kept)).status, 200, 'queues still owned commit fine');
  });

  test('right after losing queues, a pull hands out messages only from the queues still owned', async () => {
    const topic = uniqueName('lost');
    const group = uniqueName('g');
    const created = await createTopic(t.api, topic, 4);
    await createGroup(t.api, group, [topic]);
    const a = await joinGroup(t.api, group, 'a');
    await produceSpread(t.api, topic, Array.from({ length: 40 }, (_, i) => ({ body: i })), 4);
    // This pull leaves the broker remembering all four queues as a's (its read-ahead hint).
    assert.equal((await a.pulled({ max: 4 })).messages.length, 4);
    const b = await joinGroup(t.api, group, 'b');
    const aNow = (await a.queues()).filter((q) => idsOf(created).includes(q));
    const bNow = (await b.queues()).filter((q) => idsOf(created).includes(q));
    assert.equal(aNow.length, 2);
    assert.equal(bNow.length, 2);
    const pulled = await a.pulled({ max: 100 });
    assert.ok(pulled.messages.length > 0);
    for (const m of pulled.messages) assert.ok(aNow.includes(m.queueId), `queue ${m.queueId} now belongs to b`);
    for (const p of pulled.positions) assert.ok(aNow.includes(p.queueId));
  });

  test('expanding a subscribed topic hands the new queues out', async () => {
    const topic = uniqueName('expand');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const a = await joinGroup(t.api, group, 'a');
    const b = await joinGroup(t.api, group, 'b');
    const grown = idsOf((await t.api.post(`/api/v1/admin/topics/${topic}/expand`, { queues: 2 })).body);
    assert.equal(grown.length, 4);
    assert.equal((await ownership([a], grown)).get(a.consumerId)!.length, 2);
    assert.equal((await ownership([b], grown)).get(b.consumerId)!.length, 2);
  });

  test('a queue made unreadable is taken from its owner', async () => {
    const topic = uniqueName('unreadable');
    const group = uniqueName('g');
    const created = await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const a = await joinGroup(t.api, group, 'a');
    const queues = idsOf(created);
    assert.deepEqual((await ownership([a], queues)).get(a.consumerId), queues);
    await t.api.patch(`/api/v1/admin/topics/${topic}/queues/${created.queues[0]!.id}`, { readable: false });
    assert.deepEqual((await ownership([a], queues)).get(a.consumerId), [created.queues[1]!.id]);
  });
});
