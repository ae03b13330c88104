import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Prefetches } from '../broker/consume/prefetch';
import { createGroup, createTopic, joinGroup, produceSpread, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { waitFor } from './helpers/wait';


describe('prefetch store', () => {
  test('a reading is taken once, replaced by a newer one, and dropped after its time', async () => {
    const p = new Prefetches<string>(1000, 50, (v) => v.length);
    p.start('a', async () => 'first');
    p.start('a', async () => 'second');
    assert.equal(await p.take('a'), 'second');
    assert.equal(p.take('a'), undefined, 'taken once');
    p.start('b', async () => 'kept briefly');
    await waitFor('the reading to be held', async () => p.heldBytes === 'kept briefly'.length, 2_000, 1);
    await waitFor('the reading to be dropped after its ttl', async () => p.heldBytes === 0, 2_000, 5);
    assert.equal(p.take('b'), undefined, 'dropped after the ttl');
    assert.equal(p.heldBytes, 0);
  });

  test('no reading starts while the bytes held reach the budget, and a failed read is just absent', async () => {
    const p = new Prefetches<string>(10, 10_000, (v) => v.length);
    p.start('big', async () => 'x'.repeat(10));
    await waitFor('the reading to finish', async () => p.heldBytes === 10, 2_000, 1);
    let started = false;
    p.start('other', async () => {
      started = true;
      return 'y';
    });
    assert.equal(started, false, 'over budget: nothing read');
    assert.equal(await p.take('big'), 'x'.repeat(10));
    assert.equal(p.heldBytes, 0);
    p.start('broken', () => Promise.reject(new Error('node down')));
    assert.equal(await p.take('broken'), undefined);
  });
});

describe('prefetched pulls', () => {
  let t: TestBroker;
  before(async () => {
    t = await startTestBroker('prefetch');
  });
  after(async () => {
    await t?.close();
  });

  test('a consumer draining a backlog in full pulls gets every message once, in order, partly from prefetched reads', async () => {
    const topic = uniqueName('pf');
    const group = uniqueName('g');
    await createTopic(t.api, topic, 3);
    await createGroup(t.api, group, [topic]);
    const c = await joinGroup(t.api, group, 'c1');
    const sent = await produceSpread(t.api, topic, Array.from({ length: 600 }, (_, i) => ({ body: i })), 3);
    const got: { queueId: number; id: number }[] = [];
    let positions: { queueId: number; offset: number }[] | undefined;
    for (let round = 0; round < 20 && got.length < 600; round++) {
      const batch = await c.pulled({ max: 50, ...(positions ? { positions } : {}) });
      got.push(...batch.messages);
      positions = batch.positions;
      assert.equal((await c.commit(batch.positions, batch.generation)).status, 200);
    }
    const key = (m: { queueId: number; id: number }) => `${m.queueId}:${m.id}`;
    assert.equal(got.length, 600);
    assert.deepEqual(new Set(got.map(key)), new Set(sent.map(key)));
    for (const q of new Set(got.map((m) => m.queueId))) {
      const ids = got.filter((m) => m.queueId === q).map((m) => m.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    }
    const metrics = (await t.api.get('/metrics')).body as string;
    const used = Number(/tablemq_pull_prefetch_used_total (\d+)/.exec(metrics)?.[1] ?? 0);
    assert.ok(used >= 5, `${used} pulls were answered from prefetched reads`);
  });
});
