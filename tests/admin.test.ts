import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDatabase } from './helpers/db';
import { createApp, createTopic, produceSpread, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';

let t: TestBroker;
let second: Awaited<ReturnType<typeof freshDatabase>>;
before(async () => {
  t = await startTestBroker('admin');
  second = await freshDatabase('admin_node2');
});
after(async () => {
  await t?.close();
  await second?.drop();
});

describe('db nodes and queues', () => {
  test('the metadata database is registered as db node "default" at start', async () => {
    const res = await t.api.get('/api/v1/admin/db-nodes');
    assert.equal(res.status, 200);
    assert.equal(res.body.dbNodes.length, 1);
    assert.equal(res.body.dbNodes[0].name, 'default');
    assert.equal(res.body.dbNodes[0].database, t.database.name);
    assert.equal(res.body.dbNodes[0].password, undefined, 'passwords are never shown');
  });

  test('a reachable node is added, listed, and its spare tables are used by the next topic', async () => {
    const add = await t.api.post('/api/v1/admin/db-nodes', { name: 'node-b', host: '127.0.0.1', port: 3306, database: second.name, user: 'root' });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    assert.match(add.body.version, /MariaDB|\d+\.\d+/);
    const list = await t.api.get('/api/v1/admin/db-nodes');
    assert.deepEqual(list.body.dbNodes.map((n: { name: string }) => n.name), ['default', 'node-b']);

    const spares = await t.api.post('/api/v1/admin/db-nodes/node-b/queues', { count: 3 });
    assert.equal(spares.status, 201);
    assert.equal(spares.body.queues.length, 3);

    const topic = await createTopic(t.api, uniqueName('on-spares'), 3);
    assert.deepEqual(
      topic.queues.map((q) => q.id),
      spares.body.queues.map((q: { id: number }) => q.id),
      'the topic took the spare tables',
    );
    assert.ok(topic.queues.every((q) => q.dbNode === 'node-b'));
  });

  test('a duplicate node name is a 409', async () => {
    const res = await t.api.post('/api/v1/admin/db-nodes', { name: 'node-b', host: '127.0.0.1', port: 3306, database: second.name, user: 'root' });
    assert.equal(res.status, 409);
  });

  test('new tables go to the node with the fewest queues', async () => {
    const counts = async () => {
      const nodes = (await t.api.get('/api/v1/admin/db-nodes')).body.dbNodes as { name: string; queues: number }[];
      return Object.fromEntries(nodes.map((n) => [n.name, n.queues])) as Record<'default' | 'node-b', number>;
    };
    const before = await counts();
    const topic = await createTopic(t.api, uniqueName('spread'), 6);
    const after = await counts();
    assert.equal(after.default + after['node-b'] - before.default - before['node-b'], 6);
    assert.ok(Math.abs(after.default - after['node-b']) <= 1, JSON.stringify(after));
    assert.equal(topic.queues.length, 6);
  });
});

describe('topics', () => {
  test('a topic is listed and described with its queues and settings', async () => {
    const name = uniqueName('described');
    await createTopic(t.api, name, 2, { retentionHours: 48, maxMessageBytes: 4096, owner: 'team-a' });
    const got = await t.api.get(`/api/v1/admin/topics/${name}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.retentionHours, 48);
    assert.equal(got.body.maxMessageBytes, 4096);
    assert.equal(got.body.owner, 'team-a');
    assert.equal(got.body.kind, 'normal');
    const list = await t.api.get('/api/v1/admin/topics');
    assert.ok(list.body.topics.some((x: { name: string }) => x.name === name));
  });

  test('expanding a topic adds queues that receive messages', async () => {
    const name = uniqueName('grow');
    const topic = await createTopic(t.api, name, 2);
    const grown = await t.api.post(`/api/v1/admin/topics/${name}/expand`, { queues: 2 });
    assert.equal(grown.status, 200);
    assert.equal(grown.body.queues.length, 4);
    const results = await produceSpread(t.api, name, Array.from({ length: 8 }, (_, i) => ({ body: i })), 4);
    const used = new Set(results.map((r) => r.queueId));
    assert.equal(used.size, 4, 'all four queues received messages');
    assert.ok(topic.queues.every((q) => used.has(q.id)));
  });

  test('every admin change is written to audit_log, by the app whose token made it (not a header the client chose)', async () => {
    const name = uniqueName('audited');
    await createTopic(t.api, name, 1);
    const alice = await createApp(t.api, uniqueName('alice'), [{ permission: 'admin' }]);
    const expanded = await alice.api.post(`/api/v1/admin/topics/${name}/expand`, { queues: 1 }, { 'x-tablemq-actor': 'mallory' });
    assert.equal(expanded.status, 200);
    const group = uniqueName('audited-group');
    await t.api.post('/api/v1/admin/groups', { name: group });
    await t.api.post(`/api/v1/admin/groups/${group}/subscriptions`, { topic: name });
    const rows = await t.sql.rows<{ action: string; target: string; actor: string }>(
      'SELECT action, target, actor FROM audit_log WHERE target IN (?, ?) ORDER BY id',
      [`topic:${name}`, `group:${group}`],
    );
    assert.deepEqual(rows.map((r) => r.action), ['topic.create', 'topic.expand', 'group.create', 'group.subscribe']);
    assert.match(rows[0]!.actor, /^admin@/);
    assert.equal(rows[1]!.actor.split('@')[0], alice.name);
  });
});

/** The counters dashboards already use: their names must never change. */
const COUNTERS = [
  'tablemq_messages_produced_total',
  'tablemq_insert_statements_total',
  'tablemq_produce_writes_total',
  'tablemq_messages_pulled_total',
  'tablemq_pull_prefetch_used_total',
  'tablemq_offset_commits_total',
  'tablemq_id_holes_skipped_total',
  'tablemq_produce_overloaded_total',
];

describe('metrics', () => {
  test('every counter is listed from the start, and those without labels read 0 before they first count', async () => {
    const fresh = await startTestBroker('metricsfresh');
    try {
      const res = await fresh.api.get('/metrics');
      assert.equal(res.status, 200);
      const text = res.body as string;
      for (const name of COUNTERS) assert.match(text, new RegExp(`^# HELP ${name} `, 'm'), name);
      for (const name of ['tablemq_pull_prefetch_used_total', 'tablemq_offset_commits_total', 'tablemq_produce_overloaded_total']) {
        assert.match(text, new RegExp(`^${name} 0$`, 'm'), name);
      }
    } finally {
      await fresh.close();
    }
  });
});
