import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopic, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('groupcommit', { nodePoolSize: 8 });
});
after(async () => {
  await t?.close();
});

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('group commit', () => {
  test('64 concurrent single-message producers share INSERTs, and each gets the ids of its own rows', async () => {
    const topic = uniqueName('gc');
    const created = await createTopic(t.api, topic, 1);
    const before = await t.api.get('/metrics');
    const answers = new Map<string, number>(); // "producer:seq" → id
    await Promise.all(
      Array.from({ length: 64 }, async (_, p) => {
        for (let seq = 0; seq < 25; seq++) {
          const res = await t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: { p, seq } }] });
          assert.equal(res.status, 201);
          answers.set(`${p}:${seq}`, res.body.results[0].id);
        }
      }),
    );
    const after = await t.api.get('/metrics');
    const rows = await t.sql.rows<{ id: number; body: Buffer }>(`SELECT id, body FROM \`${created.queues[0]!.table}\``);
    assert.equal(rows.length, 64 * 25);
    const bodyById = new Map(rows.map((r) => [Number(r.id), JSON.parse(r.body.toString()) as { p: number; seq: number }]));
    for (const [who, id] of answers) {
      const body = bodyById.get(id);
      assert.equal(`${body?.p}:${body?.seq}`, who, `id ${id} holds the row of producer ${who}`);
    }
    const inserts = metric(after.body, 'tablemq_insert_statements_total') - metric(before.body, 'tablemq_insert_statements_total');
    const produced = metric(after.body, 'tablemq_messages_produced_total') - metric(before.body, 'tablemq_messages_produced_total');
    assert.equal(produced, 64 * 25);
    assert.ok(inserts < produced, `${produced} messages took ${inserts} INSERTs: requests were coalesced`);
  });

  test("one request's bad message does not fail its concurrent neighbours", async () => {
    const topic = uniqueName('neighbours');
    const created = await createTopic(t.api, topic, 1, { maxMessageBytes: 100 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: i % 10 === 3 ? 'x'.repeat(200) : i }] }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.deepEqual(
      statuses,
      Array.from({ length: 30 }, (_, i) => (i % 10 === 3 ? 413 : 201)),
    );
    assert.equal(await t.sql.count(created.queues[0]!.table), 27);
  });
});

describe('back-pressure', () => {
  test('when more bytes are pending than allowed, produce answers 503 with Retry-After and stores nothing for it', async () => {
    const tight = await startTestBroker('pressure', { produceMaxPendingBytes: 4096, produceMaxInFlightPerQueue: 1 });
    try {
      const topic = uniqueName('tight');
      const created = await createTopic(tight.api, topic, 1);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => tight.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: { i, pad: 'p'.repeat(2000) } }] })),
      );
      const refused = results.filter((r) => r.status === 503);
      const accepted = results.filter((r) => r.status === 201);
      assert.equal(refused.length + accepted.length, 40);
      assert.ok(refused.length > 0, 'some requests were refused');
      for (const r of refused) {
        assert.equal(r.body.error.code, 'OVERLOADED');
        assert.equal(r.headers.get('retry-after'), '1');
      }
      assert.equal(await tight.sql.count(created.queues[0]!.table), accepted.length);
      const metrics = await tight.api.get('/metrics');
      assert.equal(metric(metrics.body, 'tablemq_produce_overloaded_total'), refused.length);
      assert.equal(metric(metrics.body, 'tablemq_produce_pending_bytes'), 0, 'nothing stays pending');
    } finally {
      await tight.close();
    }
  });
});
