import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopic, produce, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('produce');
});
after(async () => {
  await t?.close();
});

async function rowsPerQueue(queues: { table: string }[]): Promise<number[]> {
  return Promise.all(queues.map((q) => t.sql.count(q.table)));
}

describe('produce', () => {
  test('creating a topic with 4 queues creates 4 tables on the node', async () => {
    const name = uniqueName('tables');
    const topic = await createTopic(t.api, name, 4);
    assert.equal(topic.queues.length, 4);
    const tables = await t.sql.tables();
    for (const q of topic.queues) {
      assert.match(q.table, /^mq_\d{6}$/);
      assert.ok(tables.includes(q.table), `${q.table} exists`);
      assert.equal(q.dbNode, 'default');
    }
  });

  test('a single message is stored and reads back byte-for-byte', async () => {
    const name = uniqueName('single');
    await createTopic(t.api, name, 1);
    const body = { text: 'héllo ☃ \u0000 "quoted"', n: 12.5, list: [1, null, true], nested: { deep: { x: 'y' } } };
    const [result] = await produce(t.api, name, [{ body, key: 'k-1', tag: 'created', traceId: 'trace-9', headers: { source: 'test' } }]);
    assert.ok(result);
    const got = await t.api.get(`/api/v1/topics/${name}/queues/${result.queueId}/messages/${result.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.body, body);
    assert.equal(got.body.key, 'k-1');
    assert.equal(got.body.tag, 'created');
    assert.equal(got.body.traceId, 'trace-9');
    assert.deepEqual(got.body.headers, { source: 'test' });
    const topic = (await t.api.get(`/api/v1/admin/topics/${name}`)).body;
    const [row] = await t.sql.rows<{ body: Buffer }>(`SELECT body FROM \`${topic.queues[0].table}\` WHERE id = ?`, [result.id]);
    assert.equal(row?.body.toString('utf8'), JSON.stringify(body));
  });

  test('bodies with quotes, backslashes and odd characters are stored byte-for-byte', async () => {
    const name = uniqueName('escaping');
    const created = await createTopic(t.api, name, 1);
    const bodies = [
      "it's",
      "''",
      'back\\slash',
      '\\\'',
      "\\'; DROP TABLE topic; --",
      'percent % and _ underscore \\% \\_',
      '\u0000\u001a\b\f\n\r\t',
      'emoji 🚀 and ünïcödé and \u2028',
      { "k'ey": ["v\\'al", 1.5e300, -12.25, null] },
      'x'.repeat(70_000) + "'",
    ];
    const results = await produce(t.api, name, bodies.map((body) => ({ body })));
    const rows = await t.sql.rows<{ id: number; body: Buffer }>(`SELECT id, body FROM \`${created.queues[0]!.table}\` ORDER BY id`);
    assert.equal(rows.length, bodies.length);
    rows.forEach((row, i) => {
      assert.equal(Number(row.id), results[i]!.id);
      assert.equal(row.body.toString('utf8'), JSON.stringify(bodies[i]), `body ${i} is stored as its JSON text`);
    });
    for (const [i, r] of results.entries()) {
      const got = await t.api.get(`/api/v1/topics/${name}/queues/${r.queueId}/messages/${r.id}`);
      assert.deepEqual(got.body.body, bodies[i]);
    }
  });

  test('bodies are stored as the JSON text sent: spacing and escapes kept, the value unchanged', async () => {
    const name = uniqueName('spaced');
    await createTopic(t.api, name, 1);
    const raw = '{ "messages": [ { "body": { "a" : [ 1 , 2.50 ] ,\n "s" : "q\\"\\u00e9" } }, {"body":"plain"} ] }';
    const res = await t.api.post(`/api/v1/topics/${name}/messages`, raw);
    assert.equal(res.status, 201);
    const [first, second] = res.body.results as { queueId: number; id: number }[];
    const got = await t.api.get(`/api/v1/topics/${name}/queues/${first!.queueId}/messages/${first!.id}`);
    assert.deepEqual(got.body.body, { a: [1, 2.5], s: 'q"é' });
    const stored = await t.sql.rows<{ body: Buffer }>(`SELECT body FROM \`${(await t.api.get(`/api/v1/admin/topics/${name}`)).body.queues[0].table}\` WHERE id = ?`, [first!.id]);
    assert.equal(stored[0]!.body.toString(), '{ "a" : [ 1 , 2.50 ] ,\n "s" : "q\\"\\u00e9" }');
    assert.equal((await t.api.get(`/api/v1/topics/${name}/queues/${second!.queueId}/messages/${second!.id}`)).body.body, 'plain');
  });

  test('a batch is stored in order and every body reads back', async () => {
    const name = uniqueName('batch');
    await createTopic(t.api, name, 1);
    const bodies = Array.from({ length: 250 }, (_, i) => ({ i, pad: 'x'.repeat(i) }));
    const results = await produce(t.api, name, bodies.map((body) => ({ body })));
    assert.equal(results.length, 250);
    const ids = results.map((r) => r.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids ascend in request order');
    for (const [i, r] of results.entries()) {
      const got = await t.api.get(`/api/v1/topics/${name}/queues/${r.queueId}/messages/${r.id}`);
      assert.deepEqual(got.body.body, bodies[i]);
    }
  });

  test('unkeyed messages: one queue per request, round-robin over requests (8 x 100 over 4 queues = 200 each)', async () => {
    const name = uniqueName('rr');
    const topic = await createTopic(t.api, name, 4);
    for (let r = 0; r < 8; r++) {
      const results = await produce(t.api, name, Array.from({ length: 100 }, (_, i) => ({ body: { r, i } })));
      assert.equal(new Set(results.map((x) => x.queueId)).size, 1, `request ${r} went to one queue`);
      assert.equal(results[0]!.queueId, topic.queues[r % 4]!.id, `request ${r} went to the next queue`);
    }
    assert.deepEqual(await rowsPerQueue(topic.queues), [200, 200, 200, 200]);
  });

  test('keyed messages of a request spread by key while its unkeyed ones share one queue', async () => {
    const name = uniqueName('mixed');
    await createTopic(t.api, name, 4);
    const messages = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? { body: i, key: `k-${i}` } : { body: i }));
    const results = await produce(t.api, name, messages);
    const unkeyed = new Set(results.filter((_, i) => i % 2 === 1).map((r) => r.queueId));
    const keyed = new Set(results.filter((_, i) => i % 2 === 0).map((r) => r.queueId));
    assert.equal(unkeyed.size, 1);
    assert.ok(keyed.size > 1, '20 keys use more than one queue');
  });

  test('messages with the same key always land in the same queue', async () => {
    const name = uniqueName('keyed');
    await createTopic(t.api, name, 4);
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
    const first = await produce(t.api, name, keys.map((key) => ({ body: 1, key })));
    for (let round = 0; round < 3; round++) {
      const again = await produce(t.api, name, keys.map((key) => ({ body: round, key })));
      assert.deepEqual(again.map((r) => r.queueId), first.map((r) => r.queueId));
    }
    assert.ok(new Set(first.map((r) => r.queueId)).size > 1, '40 keys use more than one queue');
  });

  test('concurrent producers each get back ids that hold their own messages', async () => {
    const name = uniqueName('ids');
    await createTopic(t.api, name, 2);
    const producers = Array.from({ length: 24 }, (_, p) =>
      produce(t.api, name, Array.from({ length: 1 + (p % 5) }, (_, i) => ({ body: { p, i } }))),
    );
    const answers = await Promise.all(producers);
    for (const [p, results] of answers.entries()) {
      for (const [i, r] of results.entries()) {
        const got = await t.api.get(`/api/v1/topics/${name}/queues/${r.queueId}/messages/${r.id}`);
        assert.deepEqual(got.body.body, { p, i });
      }
    }
  });

  test('a queue that is not writable receives nothing', async () => {
    const name = uniqueName('flags');
    const topic = await createTopic(t.api, name, 2);
    const [closed, open] = topic.queues;
    assert.ok(closed && open);
    const patched = await t.api.patch(`/api/v1/admin/topics/${name}/queues/${closed.id}`, { writable: false });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.queues[0].writable, false);
    const results = await produce(t.api, name, Array.from({ length: 20 }, (_, i) => ({ body: i })));
    assert.ok(results.every((r) => r.queueId === open.id));
    assert.equal(await t.sql.count(closed.table), 0);
    await t.api.patch(`/api/v1/admin/topics/${name}/queues/${open.id}`, { writable: false });
    const none = await t.api.post(`/api/v1/topics/${name}/messages`, { messages: [{ body: 1 }] });
    assert.equal(none.status, 409);
    assert.equal(none.body.error.code, 'NO_WRITABLE_QUEUE');
  });
});
