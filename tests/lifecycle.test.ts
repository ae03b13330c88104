import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PortalJobs } from '../portal-jobs/app';
import { freshDatabase, sqlClient } from './helpers/db';
import { apiClient, createGroup, createTopic, drain, joinGroup, produce, produceSpread, startTestBroker, testConfig, uniqueName, type TestBroker } from './helpers/broker';
import { startTestJobs } from './helpers/jobs';
import { sleep, waitFor } from './helpers/wait';
import { startBroker, type Broker } from '../broker/server';
import { createLogger } from '../shared/logger';

/** Short catalog refresh and release grace, so "within the refresh interval" is quick to see. */
const FAST = { metadataRefreshMs: 200, produceStatementTimeoutMs: 500, queueReleaseGraceMs: 1_000 };

let t: TestBroker;
let jobs: PortalJobs;
before(async () => {
  t = await startTestBroker('lifecycle', FAST);
  jobs = await startTestJobs(t.database.url, FAST);
});
after(async () => {
  await jobs?.stop();
  await t?.close();
});

const admin = '/api/v1/admin';

async function queueRow(id: number) {
  const [row] = await t.sql.rows<{ topic_id: number | null; released_at: Date | null }>('SELECT topic_id, released_at FROM queue WHERE id = ?', [id]);
  return row;
}

/**
 * Runs reclaim-queues until every given queue is a spare again (it waits out the release grace).
 * A failed run is tried again (the queue stays released), and shown if the wait times out.
 */
async function reclaimed(queueIds: number[]) {
  const failures: string[] = [];
  try {
    await waitFor(
      'released queues emptied and spare again',
      async () => {
        const outcome = await jobs.runOnce('reclaim-queues');
        if (!(outcome.kind === 'finished' && outcome.status === 'succeeded')) failures.push(JSON.stringify(outcome));
        const rows = await Promise.all(queueIds.map(queueRow));
        return rows.every((r) => r && r.topic_id === null && r.released_at === null);
      },
      20_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; failed runs: ${failures.join(' | ')}`, { cause: err });
  }
}

async function subscribe(group: string, topic: string, extra: Record<string, unknown> = {}) {
  const res = await t.api.post(`${admin}/groups/${group}/subscriptions`, { topic, start: 'earliest', ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { retryTopic: string; deadTopic: string };
}

async function auditActions(target: string): Promise<string[]> {
  return (await t.sql.rows<{ action: string }>('SELECT action FROM audit_log WHERE target = ? ORDER BY id', [target])).map((r) => r.action);
}

describe('delete a topic', () => {
  test('refused while subscribed (409); with force the groups are unsubscribed, the queues emptied into the spare pool, and the name is free again', async () => {
    const name = uniqueName('doomed');
    const topic = await createTopic(t.api, name, 2);
    const group = uniqueName('reader');
    await createGroup(t.api, group);
    const side = await subscribe(group, name);
    await produce(t.api, name, Array.from({ length: 6 }, (_, i) => ({ body: i })));

    const refused = await t.api.delete(`${admin}/topics/${name}`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'CONFLICT');
    assert.equal((await t.api.get(`${admin}/topics/${name}`)).status, 200, 'a refused delete changes nothing');

    const badForce = await t.api.delete(`${admin}/topics/${name}?force=maybe`);
    assert.equal(badForce.status, 400);

    const deleted = await t.api.delete(`${admin}/topics/${name}?force=true`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(deleted.body.releasedQueues, topic.queues.map((q) => q.id));
    assert.equal((await t.api.get(`${admin}/topics/${name}`)).status, 404);
    assert.equal((await t.api.get(`${admin}/topics/${side.retryTopic}`)).status, 404, 'the retry topic went with the subscription');
    assert.equal((await t.api.get(`${admin}/topics/${side.deadTopic}`)).status, 404);
    assert.deepEqual((await t.api.get(`${admin}/groups/${group}`)).body.subscriptions, []);
    assert.equal(await t.sql.count('queue_offset', 'queue_id IN (?)', [topic.queues.map((q) => q.id)]), 0);
    assert.equal((await t.api.post(`/api/v1/topics/${name}/messages`, { messages: [{ body: 1 }] })).status, 404);
    assert.deepEqual(await auditActions(`topic:${name}`), ['topic.create', 'topic.delete']);

    // Not a spare until emptied: a topic created now gets other tables.
    const early = await createTopic(t.api, uniqueName('early'), 2);
    assert.ok(early.queues.every((q) => !topic.queues.some((old) => old.id === q.id)), 'released tables are not reused before they are emptied');

    await reclaimed(topic.queues.map((q) => q.id));
    for (const q of topic.queues) assert.equal(await t.sql.count(q.table), 0, `${q.table} was emptied`);

    const again = await createTopic(t.api, name, 2);
    assert.deepEqual(again.queues.map((q) => q.id).sort(), topic.queues.map((q) => q.id).sort(), 'the emptied tables were spares again');
    const results = await produce(t.api, name, [{ body: 'fresh' }]);
    assert.equal(results[0]!.id, 1, 'ids restart in an emptied table');
    await subscribe(group, name);
    const c = await joinGroup(t.api, group, 'c1');
    const got = await drain(c, 1, 5_000);
    assert.deepEqual(got.map((m) => m.body), ['fresh'], 'only the new topic messages are read');
  });

  test('a topic without subscribers is deleted without force; unknown is 404; a group retry topic is refused', async () => {
    const name = uniqueName('lonely');
    await createTopic(t.api, name, 1);
    assert.equal((await t.api.delete(`${admin}/topics/${name}`)).status, 200);
    assert.equal((await t.api.delete(`${admin}/topics/${name}`)).status, 404);

    const src = uniqueName('src');
    await createTopic(t.api, src, 1);
    const group = uniqueName('g');
    await createGroup(t.api, group);
    const side = await subscribe(group, src);
    const retry = await t.api.delete(`${admin}/topics/${side.retryTopic}?force=true`);
    assert.equal(retry.status, 409, JSON.stringify(retry.body));
    assert.match(retry.body.error.message, /unsubscribe/);
    assert.equal((await t.api.get(`${admin}/topics/${side.retryTopic}`)).status, 200);
  });
});

describe('unsubscribe', () => {
  test('removes the offsets and the side topics; refused for an unknown subscription or the group own retry topic; re-subscribing starts afresh', async () => {
    const topic = uniqueName('unsub');
    await createTopic(t.api, topic, 2);
    const group = uniqueName('g');
    await createGroup(t.api, group);
    const side = await subscribe(group, topic);

    assert.equal((await t.api.delete(`${admin}/groups/${group}/subscriptions/${side.retryTopic}`)).status, 409);
    const other = uniqueName('other');
    await createTopic(t.api, other, 1);
    const missing = await t.api.delete(`${admin}/groups/${group}/subscriptions/${other}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'SUBSCRIPTION_NOT_FOUND');

    await produce(t.api, topic, [{ body: 'old' }]);
    const res = await t.api.delete(`${admin}/groups/${group}/subscriptions/${topic}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.removedSideTopics.map((s: { topic: string }) => s.topic).sort(), [side.deadTopic, side.retryTopic].sort());
    const groupId = (await t.api.get(`${admin}/groups/${group}`)).body.id as number;
    assert.equal(await t.sql.count('queue_offset', 'consumer_group_id = ?', [groupId]), 0);
    assert.equal(await t.sql.count('subscription', 'consumer_group_id = ?', [groupId]), 0);
    assert.deepEqual(await auditActions(`group:${group}`), ['group.create', 'group.subscribe', 'group.unsubscribe']);

    const again = await t.api.post(`${admin}/groups/${group}/subscriptions`, { topic, start: 'latest' });
    assert.equal(again.status, 201, 're-subscribing under the same names works');
    assert.equal(again.body.retryTopic, side.retryTopic);
    await produce(t.api, topic, [{ body: 'new' }]);
    const c = await joinGroup(t.api, group, 'c');
    assert.deepEqual((await drain(c, 1, 5_000)).map((m) => m.body), ['new'], 'the new subscription starts where it says, not at the old offsets');
  });
});

describe('delete a group', () => {
  test('its consumers, offsets, subscriptions and side topics go; its consumers get 404; the name can be used again', async () => {
    const topic = uniqueName('gdel');
    await createTopic(t.api, topic, 1);
    const group = uniqueName('g');
    await createGroup(t.api, group);
    const side = await subscribe(group, topic);
    const c = await joinGroup(t.api, group, 'c');
    const groupId = (await t.api.get(`${admin}/groups/${group}`)).body.id as number;

    const res = await t.api.delete(`${admin}/groups/${group}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.unsubscribed, [topic]);
    for (const table of ['consumer', 'queue_offset', 'subscription']) assert.equal(await t.sql.count(table, 'consumer_group_id = ?', [groupId]), 0, table);
    assert.equal((await t.api.get(`${admin}/topics/${side.retryTopic}`)).status, 404);
    assert.equal((await t.api.get(`${admin}/topics/${topic}`)).status, 200, 'the topic itself stays');
    assert.equal((await c.pull({ waitMs: 0 })).status, 404);
    assert.equal((await t.api.delete(`${admin}/groups/${group}`)).status, 404);
    assert.deepEqual(await auditActions(`group:${group}`), ['group.create', 'group.subscribe', 'group.delete']);

    await createGroup(t.api, group);
    await subscribe(group, topic);
    await produce(t.api, topic, [{ body: 'again' }]);
    const c2 = await joinGroup(t.api, group, 'c');
    assert.deepEqual((await drain(c2, 1, 5_000)).map((m) => m.body), ['again']);
  });
});

describe('delete a db node', () => {
  test('refused while it holds queues; once its topics are gone and emptied it is removed with its spare tables', async () => {
    const db = await freshDatabase('life_node');
    try {
      const node = uniqueName('node');
      const add = await t.api.post(`${admin}/db-nodes`, { name: node, host: '127.0.0.1', port: 3306, database: db.name, user: 'root' });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      const topic = uniqueName('on-node');
      const created = await createTopic(t.api, topic, 1, { dbNode: node });
      await t.api.post(`${admin}/db-nodes/${node}/queues`, { count: 1 });

      const refused = await t.api.delete(`${admin}/db-nodes/${node}`);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.deepEqual(refused.body.error.details.queueIds, created.queues.map((q) => q.id));

      assert.equal((await t.api.delete(`${admin}/topics/${topic}`)).status, 200);
      assert.equal((await t.api.delete(`${admin}/db-nodes/${node}`)).status, 409, 'a released queue still waits to be emptied there');
      await reclaimed(created.queues.map((q) => q.id));

      const res = await t.api.delete(`${admin}/db-nodes/${node}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.spareQueuesRemoved, 2);
      assert.equal(res.body.tablesDropped, 2);
      const nodes = (await t.api.get(`${admin}/db-nodes`)).body.dbNodes as { name: string }[];
      assert.ok(!nodes.some((n) => n.name === node));
      const leftovers = await sqlClient(db.name);
      try {
        assert.deepEqual(await leftovers.tables(), []);
      } finally {
        await leftovers.end();
      }
      assert.equal((await t.api.delete(`${admin}/db-nodes/${node}`)).status, 404);
      assert.deepEqual(await auditActions(`db-node:${node}`), ['db-node.add', 'queue.create-spare', 'db-node.delete']);
    } finally {
      await db.drop();
    }
  });
});

describe('alter', () => {
  test('PATCH topic: maxMessageBytes, retention and owner change, on a second broker within its refresh interval', async () => {
    const name = uniqueName('alter');
    await createTopic(t.api, name, 1, { maxMessageBytes: 1_000, owner: 'team-a' });
    const other: Broker = await startBroker(testConfig(t.database.url, FAST), createLogger('error', 'second'));
    try {
      const api2 = apiClient(`http://127.0.0.1:${other.port}`);
      const big = { messages: [{ body: 'x'.repeat(2_000) }] };
      assert.equal((await api2.post(`/api/v1/topics/${name}/messages`, big)).status, 413);

      const res = await t.api.patch(`${admin}/topics/${name}`, { maxMessageBytes: 10_000, retentionHours: 12, owner: null });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.maxMessageBytes, 10_000);
      assert.equal(res.body.retentionHours, 12);
      assert.equal(res.body.owner, null);
      await waitFor('the second broker accepts the bigger message', async () => (await api2.post(`/api/v1/topics/${name}/messages`, big)).status === 201, 3_000, 50);
    } finally {
      await other.stop();
    }
    const [entry] = await t.sql.rows<{ detail: string }>("SELECT detail FROM audit_log WHERE action = 'topic.alter' AND target = ?", [`topic:${name}`]);
    assert.deepEqual(JSON.parse(entry!.detail).before, { retentionHours: 168, maxMessageBytes: 1_000, owner: 'team-a' });

    for (const body of [{}, { maxMessageBytes: 0 }, { retentionHours: 'long' }, { name: 'renamed' }]) {
      const bad = await t.api.patch(`${admin}/topics/${name}`, body);
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    assert.equal((await t.api.patch(`${admin}/topics/${uniqueName('nope')}`, { owner: 'x' })).status, 404);
  });

  test('PATCH subscription: tags filter the next pulls, maxRetries and backoffMs change and reset with null', async () => {
    const topic = uniqueName('subalter');
    await createTopic(t.api, topic, 1);
    const group = uniqueName('g');
    await createGroup(t.api, group);
    await subscribe(group, topic);
    const res = await t.api.patch(`${admin}/groups/${group}/subscriptions/${topic}`, { tags: ['keep'], maxRetries: 2, backoffMs: [100] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.tags, res.body.maxRetries, res.body.backoffMs], [['keep'], 2, [100]]);

    await produce(t.api, topic, [{ body: 1, tag: 'drop' }, { body: 2, tag: 'keep' }]);
    const c = await joinGroup(t.api, group, 'c');
    assert.deepEqual((await drain(c, 1, 5_000)).map((m) => m.body), [2]);

    const reset = await t.api.patch(`${admin}/groups/${group}/subscriptions/${topic}`, { tags: null, maxRetries: null, backoffMs: null });
    assert.equal(reset.status, 200);
    assert.deepEqual([reset.body.tags, reset.body.maxRetries, reset.body.backoffMs], [null, 16, null]);

    assert.equal((await t.api.patch(`${admin}/groups/${group}/subscriptions/${topic}`, { tags: [] })).status, 400);
    assert.equal((await t.api.patch(`${admin}/groups/${group}/subscriptions/${topic}`, { start: 'latest' })).status, 400);
    const other = uniqueName('unsubscribed');
    await createTopic(t.api, other, 1);
    assert.equal((await t.api.patch(`${admin}/groups/${group}/subscriptions/${other}`, { maxRetries: 1 })).status, 404);
    assert.deepEqual(await auditActions(`group:${group}`), ['group.create', 'group.subscribe', 'subscription.alter', 'subscription.alter']);
  });

  test('PATCH group: maxRetries applies to subscriptions without their own', async () => {
    const topic = uniqueName('galter');
    await createTopic(t.api, topic, 1);
    const group = uniqueName('g');
    await createGroup(t.api, group);
    await subscribe(group, topic);
    const res = await t.api.patch(`${admin}/groups/${group}`, { maxRetries: 0 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.maxRetries, 0);
    assert.equal((await t.api.get(`${admin}/groups/${group}`)).body.subscriptions[0].maxRetries, 0);

    await produce(t.api, topic, [{ body: 'x' }]);
    const c = await joinGroup(t.api, group, 'c');
    const [m] = (await waitFor('the message', async () => {
      const batch = await c.pulled({ waitMs: 200 });
      return batch.messages.length > 0 && batch;
    })).messages;
    const failed = await t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, { messages: [{ queueId: m!.queueId, id: m!.id }] });
    assert.equal(failed.status, 200, JSON.stringify(failed.body));
    assert.equal(failed.body.failed[0].outcome, 'dead', 'no retries left with maxRetries 0');

    assert.equal((await t.api.patch(`${admin}/groups/${group}`, {})).status, 400);
    assert.equal((await t.api.patch(`${admin}/groups/${group}`, { maxRetries: -1 })).status, 400);
    assert.equal((await t.api.patch(`${admin}/groups/${uniqueName('nope')}`, { maxRetries: 1 })).status, 404);
  });
});

describe('group modes', () => {
  test('only the implemented mode is accepted; anything else is a 400', async () => {
    for (const mode of ['broadcast', 'fanout']) {
      const res = await t.api.post(`${admin}/groups`, { name: uniqueName('mode'), mode });
      assert.equal(res.status, 400, mode);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
    assert.equal((await t.api.post(`${admin}/groups`, { name: uniqueName('mode'), mode: 'cluster' })).status, 201);
  });
});

describe('audit log', () => {
  test('GET /audit-log pages newest first and filters by target, action, actor and time', async () => {
    const name = uniqueName('audited');
    const startedAt = new Date(Date.now() - 1_000).toISOString();
    await createTopic(t.api, name, 1);
    await t.api.patch(`${admin}/topics/${name}`, { owner: 'a' });
    await t.api.patch(`${admin}/topics/${name}`, { owner: 'b' });
    assert.equal((await t.api.delete(`${admin}/topics/${name}`)).status, 200);

    const target = encodeURIComponent(`topic:${name}`);
    const first = await t.api.get(`${admin}/audit-log?target=${target}&limit=2`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.entries.map((e: { action: string }) => e.action), ['topic.delete', 'topic.alter']);
    assert.deepEqual(first.body.entries[1].detail.change, { owner: 'b' });
    const second = await t.api.get(`${admin}/audit-log?target=${target}&limit=2&after=${first.body.next}`);
    assert.deepEqual(second.body.entries.map((e: { action: string }) => e.action), ['topic.alter', 'topic.create']);
    assert.deepEqual(second.body.entries[0].detail.change, { owner: 'a' });
    const third = await t.api.get(`${admin}/audit-log?target=${target}&limit=2&after=${second.body.next}`);
    assert.deepEqual(third.body, { entries: [], next: null });

    const alters = await t.api.get(`${admin}/audit-log?target=${target}&action=topic.alter`);
    assert.equal(alters.body.entries.length, 2);
    assert.equal(alters.body.next, null, 'a page shorter than the limit is the last');
    const actor = first.body.entries[0].actor as string;
    const byActor = await t.api.get(`${admin}/audit-log?target=${target}&actor=${encodeURIComponent(actor)}`);
    assert.equal(byActor.body.entries.length, 4);
    const byName = await t.api.get(`${admin}/audit-log?target=${target}&actor=${encodeURIComponent(actor.split('@')[0]!)}`);
    assert.equal(byName.body.entries.length, 4, 'the actor name before the @ matches too');
    assert.equal((await t.api.get(`${admin}/audit-log?target=${target}&actor=someone-else`)).body.entries.length, 0);

    const inWindow = await t.api.get(`${admin}/audit-log?target=${target}&from=${encodeURIComponent(startedAt)}`);
    assert.equal(inWindow.body.entries.length, 4);
    const before = await t.api.get(`${admin}/audit-log?target=${target}&to=${encodeURIComponent(startedAt)}`);
    assert.equal(before.body.entries.length, 0);

    for (const bad of ['limit=0', 'limit=1001', 'from=yesterday', 'after=-1', 'action=DROP%20TABLE', 'colour=red']) {
      const res = await t.api.get(`${admin}/audit-log?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
  });

  test('clean-history prunes entries older than auditLogRetentionDays and keeps the rest', async () => {
    await t.sql.rows("INSERT INTO audit_log (actor, action, target, created_at) VALUES ('old', 'topic.create', 'topic:ancient', NOW(3) - INTERVAL 31 DAY), ('old', 'topic.create', 'topic:recent', NOW(3) - INTERVAL 29 DAY)");
    const outcome = await jobs.runOnce('clean-history');
    assert.ok(outcome.kind === 'finished' && outcome.status === 'succeeded', JSON.stringify(outcome));
    assert.equal(await t.sql.count('audit_log', "target = 'topic:ancient'"), 0);
    assert.equal(await t.sql.count('audit_log', "target = 'topic:recent'"), 1);
    const [run] = await t.sql.rows<{ detail: string }>("SELECT detail FROM job_run WHERE job = 'clean-history' ORDER BY id DESC LIMIT 1");
    assert.equal(JSON.parse(run!.detail).counts.auditEntriesPruned, 1);
  });
});

describe('shrink a topic', () => {
  async function runReclaim() {
    const outcome = await jobs.runOnce('reclaim-queues');
    assert.ok(outcome.kind === 'finished' && outcome.status === 'succeeded', JSON.stringify(outcome));
  }

  test('a 4-queue topic shrunk to 3 waits for a lagging group, loses none of its messages, then the queue is a spare again and the group owns the rest', async () => {
    const name = uniqueName('shrink');
    const topic = await createTopic(t.api, name, 4);
    const group = uniqueName('lagging');
    await createGroup(t.api, group);
    await subscribe(group, name);
    const sent = Array.from({ length: 40 }, (_, i) => `m${i}`);
    await produceSpread(t.api, name, sent.map((body) => ({ body })), 4);
    const removed = topic.queues[3]!;

    const res = await t.api.post(`${admin}/topics/${name}/shrink`, { queues: 1 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.queues.find((q: { id: number }) => q.id === removed.id).writable, false);
    assert.equal(res.body.shrinking.length, 1);
    assert.equal(res.body.shrinking[0].queueId, removed.id);
    assert.equal(res.body.shrinking[0].lastId, 10);
    assert.deepEqual(res.body.shrinking[0].waitingFor, [{ group, committed: 0 }]);

    const later = Array.from({ length: 12 }, (_, i) => `late${i}`);
    const placed = await produceSpread(t.api, name, later.map((body) => ({ body })), 6);
    assert.ok(placed.every((p) => p.queueId !== removed.id), 'no new message goes to the leaving queue');

    await sleep(FAST.queueReleaseGraceMs + 100);
    await runReclaim();
    const waiting = await t.api.get(`${admin}/topics/${name}`);
    assert.equal(waiting.body.queues.length, 4, 'the queue stays while the group has not read it to its end');
    assert.equal(waiting.body.shrinking[0].waitingFor.length, 1);

    const c = await joinGroup(t.api, group, 'c');
    const got = await drain(c, sent.length + later.length, 15_000);
    assert.deepEqual(got.map((m) => m.body).sort(), [...sent, ...later].sort(), 'the lagging group got every message, the leaving queue included');

    await runReclaim();
    const done = await t.api.get(`${admin}/topics/${name}`);
    assert.deepEqual(done.body.queues.map((q: { id: number }) => q.id), topic.queues.slice(0, 3).map((q) => q.id));
    assert.deepEqual(done.body.shrinking, []);
    const owned = await c.queues();
    assert.deepEqual(owned.filter((id) => topic.queues.some((q) => q.id === id)), topic.queues.slice(0, 3).map((q) => q.id), 'the group owns the remaining queues');
    await reclaimed([removed.id]);
    assert.equal(await t.sql.count(removed.table), 0, 'back in the spare pool, emptied');
    assert.deepEqual(await auditActions(`topic:${name}`), ['topic.create', 'topic.shrink', 'topic.shrink.complete']);

    const more = await produce(t.api, name, [{ body: 'after' }]);
    assert.notEqual(more[0]!.queueId, removed.id);
    assert.deepEqual((await drain(c, 1, 5_000)).map((m) => m.body), ['after']);
  });

  test('forced: the queue leaves without waiting for the group; refused for the last writable queue, unknown queues and too many', async () => {
    const name = uniqueName('forced');
    const topic = await createTopic(t.api, name, 2);
    const group = uniqueName('g');
    await createGroup(t.api, group);
    await subscribe(group, name);
    await produceSpread(t.api, name, Array.from({ length: 4 }, (_, i) => ({ body: i })), 2);

    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, { queues: 3 })).status, 409);
    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, { queueIds: [999_999] })).status, 404);
    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, { queues: 2 })).status, 409, 'would leave no writable queue');
    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, {})).status, 400);
    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, { queues: 1, queueIds: [topic.queues[0]!.id] })).status, 400);

    const gone = topic.queues[1]!;
    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, { queueIds: [gone.id] })).status, 200);
    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, { queueIds: [gone.id] })).status, 409, 'already leaving; force is needed');
    assert.equal((await t.api.post(`${admin}/topics/${name}/shrink`, { queueIds: [topic.queues[0]!.id] })).status, 409, 'the last writable queue stays');
    const forced = await t.api.post(`${admin}/topics/${name}/shrink`, { queueIds: [gone.id], force: true });
    assert.equal(forced.status, 200);
    assert.equal(forced.body.shrinking[0].forced, true);

    await waitFor('the forced shrink to complete', async () => {
      await runReclaim();
      return (await t.api.get(`${admin}/topics/${name}`)).body.queues.length === 1;
    });
    assert.deepEqual(await auditActions(`topic:${name}`), ['topic.create', 'topic.shrink', 'topic.shrink.force', 'topic.shrink.complete']);
    const one = await t.api.post(`${admin}/topics/${name}/shrink`, { queues: 1 });
    assert.equal(one.status, 409, 'a one-queue topic cannot shrink');
  });
});

describe('a broker whose catalog has not seen a delete yet', () => {
  test('registering with a group deleted through another broker is a 404, not a 500', async () => {
    const slow: Broker = await startBroker(testConfig(t.database.url, { metadataRefreshMs: 60_000, queueReleaseGraceMs: 200_000 }), createLogger('error', 'slow'));
    try {
      const api2 = apiClient(`http://127.0.0.1:${slow.port}`);
      const group = uniqueName('stale');
      await createGroup(t.api, group);
      assert.equal((await api2.post(`/api/v1/groups/${group}/consumers`, { name: 'early' })).status, 201, 'the slow broker knows the group');
      assert.equal((await t.api.delete(`${admin}/groups/${group}`)).status, 200);
      const res = await api2.post(`/api/v1/groups/${group}/consumers`, { name: 'late' });
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'GROUP_NOT_FOUND');
    } finally {
      await slow.stop();
    }
  });
});
