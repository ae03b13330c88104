import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDatabase } from './helpers/db';
import { createTopic, produce, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { startTcpProxy } from './helpers/tcp-proxy';

let t: TestBroker;
let topic: { name: string; queues: { table: string }[] };
before(async () => {
  t = await startTestBroker('badinput', { maxRequestBytes: 64 * 1024, maxMessagesPerRequest: 50 });
  const name = uniqueName('target');
  topic = { name, queues: (await createTopic(t.api, name, 2, { maxMessageBytes: 1000 })).queues };
});
after(async () => {
  await t?.close();
});

async function messagesStored(): Promise<number> {
  let n = 0;
  for (const q of topic.queues) n += await t.sql.count(q.table);
  return n;
}

function assertError(res: { status: number; body: { error?: { code: string; message: string } } }, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, code);
  assert.equal(typeof res.body.error?.message, 'string');
  assert.ok('details' in (res.body.error ?? {}));
}

/** A JSON array nested `levels` deep. */
function nested(levels: number): string {
  return '['.repeat(levels) + '1' + ']'.repeat(levels);
}

describe('bad produce input gets its 4xx and writes nothing', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- error bodies are checked by assertError
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
    ['schema violation (message without body)', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, { messages: [{ body: 1 }, { key: 'k' }] }), 400, 'VALIDATION_FAILED'],
    ['empty message list', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, { messages: [] }), 400, 'VALIDATION_FAILED'],
    ['headers that are not strings', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, { messages: [{ body: 1, headers: { a: 1 } }] }), 400, 'VALIDATION_FAILED'],
    ['malformed JSON', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, '{"messages": [', {}), 400, 'INVALID_JSON'],
    ['non-JSON content type', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, 'body=1', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['unknown topic', () => t.api.post('/api/v1/topics/no-such-topic/messages', { messages: [{ body: 1 }] }), 404, 'TOPIC_NOT_FOUND'],
    ['a compressed body', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, '{"messages":[{"body":1}]}', { 'content-encoding': 'gzip' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a charset other than UTF-8', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, '{"messages":[{"body":1}]}', { 'content-type': 'application/json; charset=latin1' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body that is not an object', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, '[1,2]'), 400, 'VALIDATION_FAILED'],
    ['no body at all', () => t.api.call('POST', `/api/v1/topics/${topic.name}/messages`), 400, 'VALIDATION_FAILED'],
    ['malformed percent-encoding in the topic', () => t.api.post('/api/v1/topics/%E0%A4%A/messages', { messages: [{ body: 1 }] }), 400, 'VALIDATION_FAILED'],
    ['a body nested 5,000 levels deep', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, `{"messages":[{"body":${nested(5000)}}]}`), 400, 'VALIDATION_FAILED'],
    [
      'one message over the topic limit among good ones',
      () => t.api.post(`/api/v1/topics/${topic.name}/messages`, { messages: [{ body: 'ok' }, { body: 'x'.repeat(2000) }] }),
      413,
      'MESSAGE_TOO_LARGE',
    ],
    ['request over the byte limit', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, { messages: [{ body: 'y'.repeat(70 * 1024) }] }), 413, 'PAYLOAD_TOO_LARGE'],
    ['too many messages', () => t.api.post(`/api/v1/topics/${topic.name}/messages`, { messages: Array.from({ length: 51 }, () => ({ body: 1 })) }), 413, 'TOO_MANY_MESSAGES'],
  ];
  for (const [what, send, status, code] of cases) {
    test(`${what} → ${status} ${code}`, async () => {
      const before = await messagesStored();
      assertError(await send(), status, code);
      assert.equal(await messagesStored(), before, 'no message was written');
    });
  }
});

describe('produce accepts what a JSON client sends', () => {
  test('an explicit UTF-8 charset and a trailing slash are fine', async () => {
    const res = await t.api.post(`/api/v1/topics/${topic.name}/messages/`, '{"messages":[{"body":"ü"}]}', { 'content-type': 'Application/JSON; charset=UTF-8' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
});

describe('bad pull and commit input', () => {
  test('schema violations, broken JSON and unknown consumers get their 4xx', async () => {
    const group = uniqueName('bad-consumer');
    await t.api.post('/api/v1/admin/groups', { name: group });
    await t.api.post(`/api/v1/admin/groups/${group}/subscriptions`, { topic: topic.name });
    const reg = await t.api.post(`/api/v1/groups/${group}/consumers`, { name: 'c' });
    const base = `/api/v1/groups/${group}/consumers/${reg.body.consumerId}`;
    assertError(await t.api.post(`${base}/pull`, { max: 0 }), 400, 'VALIDATION_FAILED');
    assertError(await t.api.post(`${base}/pull`, '{"max":'), 400, 'INVALID_JSON');
    assertError(await t.api.post(`${base}/commit`, { offsets: [] }), 400, 'VALIDATION_FAILED');
    assertError(await t.api.post(`${base}/commit`, { offsets: [{ queueId: 1, offset: -1 }] }), 400, 'VALIDATION_FAILED');
    assertError(await t.api.post(`/api/v1/groups/${group}/consumers/abc/pull`, {}), 400, 'VALIDATION_FAILED');
    assertError(await t.api.post(`/api/v1/groups/${group}/consumers/999999/pull`, {}), 404, 'CONSUMER_EXPIRED');
    assertError(await t.api.post(`/api/v1/groups/no-such-group/consumers/1/commit`, { offsets: [{ queueId: 1, offset: 1 }] }), 404, 'GROUP_NOT_FOUND');
    assertError(await t.api.post(`/api/v1/groups/${group}/consumers/1/pull`, 'max=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('malformed URLs and deep bodies on every kind of route', () => {
  test('%ZZ or a cut-off UTF-8 sequence in any path segment is a 400, never a 500', async () => {
    const paths = [
      ['GET', '/api/v1/admin/topics/%ZZ'],
      ['GET', '/api/v1/admin/groups/%E0%A4%A'],
      ['POST', '/api/v1/admin/groups/%ZZ/subscriptions'],
      ['GET', '/api/v1/topics/%ZZ/queues/1/messages/1'],
      ['POST', '/api/v1/groups/%ZZ/consumers'],
      ['POST', '/api/v1/groups/g/consumers/%ZZ/heartbeat'],
      ['POST', '/api/v1/groups/%ZZ/consumers/1/pull'],
      ['DELETE', '/api/v1/groups/g/consumers/%ZZ'],
    ] as const;
    for (const [method, path] of paths) {
      const res = await t.api.call(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.match(res.body.error.message, /percent-encoding/, path);
    }
  });

  test('a deeply nested body is a 400 on admin and consumer routes too, and creates nothing', async () => {
    const before = await t.sql.count('topic');
    assertError(await t.api.post('/api/v1/admin/topics', `{"name":"deep","queues":1,"x":${nested(5000)}}`), 400, 'VALIDATION_FAILED');
    assertError(await t.api.post('/api/v1/groups/g/consumers/1/pull', `{"max":${nested(5000)}}`), 400, 'VALIDATION_FAILED');
    assert.equal(await t.sql.count('topic'), before);
  });

  test('a body within the depth limit is stored and read back as sent', async () => {
    const body = JSON.parse(nested(100));
    const [placed] = await produce(t.api, topic.name, [{ body }]);
    const read = await t.api.get(`/api/v1/topics/${topic.name}/queues/${placed!.queueId}/messages/${placed!.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.body, body);
  });
});

describe('bad admin input', () => {
  const hostile = ['a`b', "x'; DROP TABLE topic; --", 'a"b', 'semi;colon', 'ünïcödé', 'a'.repeat(121), '-leading', 'sp ace', ''];
  test('hostile topic names are rejected with 400 and create nothing', async () => {
    const topicsBefore = await t.sql.count('topic');
    const tablesBefore = (await t.sql.tables()).length;
    for (const name of hostile) {
      const res = await t.api.post('/api/v1/admin/topics', { name, queues: 1 });
      assertError(res, 400, 'VALIDATION_FAILED');
    }
    assert.equal(await t.sql.count('topic'), topicsBefore);
    assert.equal((await t.sql.tables()).length, tablesBefore);
  });

  test('hostile names in URLs are rejected with 400', async () => {
    for (const name of hostile.filter((n) => n !== '')) {
      const res = await t.api.post(`/api/v1/topics/${encodeURIComponent(name)}/messages`, { messages: [{ body: 1 }] });
      assertError(res, 400, 'INVALID_NAME');
      const group = await t.api.post(`/api/v1/admin/groups/${encodeURIComponent(name)}/subscriptions`, { topic: topic.name });
      assertError(group, 400, 'INVALID_NAME');
    }
  });

  test('hostile group names are rejected with 400', async () => {
    const before = await t.sql.count('consumer_group');
    for (const name of hostile) assertError(await t.api.post('/api/v1/admin/groups', { name }), 400, 'VALIDATION_FAILED');
    assert.equal(await t.sql.count('consumer_group'), before);
  });

  test('a 120-character name is accepted', async () => {
    const res = await t.api.post('/api/v1/admin/groups', { name: 'g'.repeat(120) });
    assert.equal(res.status, 201);
  });

  test('a duplicate topic is a 409 and leaves the original alone', async () => {
    const res = await t.api.post('/api/v1/admin/topics', { name: topic.name, queues: 3 });
    assertError(res, 409, 'ALREADY_EXISTS');
    const got = await t.api.get(`/api/v1/admin/topics/${topic.name}`);
    assert.equal(got.body.queues.length, 2);
  });

  test('a duplicate group is a 409', async () => {
    const name = uniqueName('grp');
    assert.equal((await t.api.post('/api/v1/admin/groups', { name })).status, 201);
    assertError(await t.api.post('/api/v1/admin/groups', { name }), 409, 'ALREADY_EXISTS');
  });

  test('unknown topic, group and node are 404s', async () => {
    assertError(await t.api.get('/api/v1/admin/topics/nope'), 404, 'TOPIC_NOT_FOUND');
    assertError(await t.api.get('/api/v1/admin/groups/nope'), 404, 'GROUP_NOT_FOUND');
    assertError(await t.api.post('/api/v1/admin/db-nodes/nope/queues', { count: 1 }), 404, 'DB_NODE_NOT_FOUND');
    assertError(await t.api.post('/api/v1/admin/topics/nope/expand', { queues: 1 }), 404, 'TOPIC_NOT_FOUND');
    assertError(await t.api.get(`/api/v1/topics/${topic.name}/queues/999999/messages/1`), 404, 'QUEUE_NOT_FOUND');
    assertError(await t.api.get('/api/v1/no/such/route'), 404, 'NOT_FOUND');
  });

  test('unknown fields in admin bodies are a 400', async () => {
    assertError(await t.api.post('/api/v1/admin/topics', { name: uniqueName('x'), queues: 1, sharding: true }), 400, 'VALIDATION_FAILED');
    assertError(await t.api.post('/api/v1/admin/topics', { name: uniqueName('x'), queues: 0 }), 400, 'VALIDATION_FAILED');
  });
});

describe('an unreachable message database', () => {
  test('produce answers 503 STORE_UNAVAILABLE and recovers when the node is back', async () => {
    const proxy = await startTcpProxy(3306);
    const nodeDb = await freshDatabase('node2');
    try {
      const node = await t.api.post('/api/v1/admin/db-nodes', { name: uniqueName('proxied'), host: '127.0.0.1', port: proxy.port, database: nodeDb.name, user: 'root' });
      assert.equal(node.status, 201, JSON.stringify(node.body));
      const name = uniqueName('on-proxy');
      await createTopic(t.api, name, 1, { dbNode: node.body.name });
      assert.equal((await t.api.post(`/api/v1/topics/${name}/messages`, { messages: [{ body: 1 }] })).status, 201);
      proxy.cut();
      const res = await t.api.post(`/api/v1/topics/${name}/messages`, { messages: [{ body: 2 }] });
      assertError(res, 503, 'STORE_UNAVAILABLE');
      assert.equal(res.headers.get('retry-after'), '1');
      proxy.restore();
      let status = 0;
      for (let i = 0; i < 20 && status !== 201; i++) {
        status = (await t.api.post(`/api/v1/topics/${name}/messages`, { messages: [{ body: 3 }] })).status;
        if (status !== 201) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 201);
    } finally {
      await proxy.close();
      await nodeDb.drop();
    }
  });

  test('adding a db node that cannot be reached is a 422 and saves nothing', async () => {
    const before = await t.sql.count('db_node');
    const res = await t.api.post('/api/v1/admin/db-nodes', { name: uniqueName('dead'), host: '127.0.0.1', port: 1, database: 'x', user: 'root' });
    assertError(res, 422, 'DB_NODE_UNREACHABLE');
    assert.equal(await t.sql.count('db_node'), before);
  });
});
