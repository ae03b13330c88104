import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../shared/logger';
import { startBroker } from '../broker/server';
import { apiClient, createApp, createGroup, createTopic, joinGroup, produce, startTestBroker, testConfig, uniqueName, type Api, type ApiAnswer, type TestBroker } from './helpers/broker';
import { waitFor } from './helpers/wait';

let t: TestBroker;
let anonymous: Api;
before(async () => {
  t = await startTestBroker('auth');
  anonymous = t.api.as(null);
});
after(async () => {
  await t?.close();
});

function assertUnauthenticated(res: ApiAnswer, what: string) {
  assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.code, 'UNAUTHENTICATED', what);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /, what);
}

function assertForbidden(res: ApiAnswer, what: string) {
  assert.equal(res.status, 403, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.code, 'FORBIDDEN', what);
}

/** A topic with one message and a group subscribed to it, made by the admin. */
async function fixture() {
  const topic = uniqueName('orders');
  const created = await createTopic(t.api, topic, 1);
  const group = uniqueName('billing');
  await createGroup(t.api, group, [topic]);
  const [stored] = await produce(t.api, topic, [{ body: 'first' }]);
  return { topic, group, table: created.queues[0]!.table, stored: stored! };
}

describe('route classes: no token 401, another app 403, the right grant 2xx', () => {
  test('produce (and reading a message back) needs produce on the topic', async () => {
    const f = await fixture();
    const producer = await createApp(t.api, uniqueName('producer'), [{ permission: 'produce', topic: f.topic }]);
    const other = await createApp(t.api, uniqueName('other'), [{ permission: 'produce', topic: 'elsewhere' }]);
    const path = `/api/v1/topics/${f.topic}/messages`;
    const read = `/api/v1/topics/${f.topic}/queues/${f.stored.queueId}/messages/${f.stored.id}`;

    assertUnauthenticated(await anonymous.post(path, { messages: [{ body: 'no token' }] }), 'produce without a token');
    assertUnauthenticated(await anonymous.as('tmq_not-a-known-token').post(path, { messages: [{ body: 'bad token' }] }), 'produce with an unknown token');
    assertUnauthenticated(await anonymous.post(path, { messages: [{ body: 'basic' }] }, { authorization: 'Basic YWRtaW46YWRtaW4=' }), 'produce with basic auth');
    assertForbidden(await other.api.post(path, { messages: [{ body: 'wrong app' }] }), 'produce by another app');
    assert.equal(await t.sql.count(f.table), 1, 'a refused produce writes nothing');
    assert.equal((await producer.api.post(path, { messages: [{ body: 'allowed' }] })).status, 201);
    assert.equal(await t.sql.count(f.table), 2);

    assertUnauthenticated(await anonymous.get(read), 'read without a token');
    assertForbidden(await other.api.get(read), 'read by another app');
    const back = await producer.api.get(read);
    assert.equal(back.status, 200);
    assert.equal(back.body.body, 'first');
  });

  test('the consumer protocol needs consume in the group, for every call', async () => {
    const f = await fixture();
    const consumerApp = await createApp(t.api, uniqueName('consumer'), [{ permission: 'consume', group: f.group }]);
    const other = await createApp(t.api, uniqueName('other'), [{ permission: 'consume', group: 'another-group' }, { permission: 'produce', topic: '*' }]);
    const base = `/api/v1/groups/${f.group}/consumers`;

    assertUnauthenticated(await anonymous.post(base, { name: 'c1' }), 'register without a token');
    assertForbidden(await other.api.post(base, { name: 'c1' }), 'register by another app');
    assert.equal(await t.sql.count('consumer'), 0, 'a refused register writes nothing');

    const member = await joinGroup(consumerApp.api, f.group, 'c1');
    const me = `${base}/${member.consumerId}`;
    const calls: [string, (api: Api) => Promise<ApiAnswer>][] = [
      ['heartbeat', (api) => api.post(`${me}/heartbeat`)],
      ['pull', (api) => api.post(`${me}/pull`, { max: 10 })],
      ['commit', (api) => api.post(`${me}/commit`, { offsets: [{ queueId: f.stored.queueId, offset: f.stored.id }] })],
      ['fail', (api) => api.post(`${me}/fail`, { messages: [{ queueId: f.stored.queueId, id: f.stored.id }] })],
      ['leave', (api) => api.delete(me)],
    ];
    for (const [name, call] of calls) {
      assertUnauthenticated(await call(anonymous), `${name} without a token`);
      assertForbidden(await call(other.api), `${name} by another app`);
    }
    const offsets = await t.sql.rows<{ committed_offset: number }>('SELECT committed_offset FROM queue_offset');
    assert.ok(offsets.every((o) => Number(o.committed_offset) === 0), 'refused commits moved no offset');
    assert.equal(await t.sql.count('failed_message'), 0, 'refused fails recorded nothing');

    const pulled = await member.pulled({ max: 10 });
    assert.deepEqual(pulled.messages.map((m) => m.body), ['first']);
    assert.equal((await member.commit(pulled.positions, pulled.generation)).status, 200);
    assert.equal((await member.heartbeat()).status, 200);
    assert.equal((await member.leave()).status, 200);
  });

  test('the admin API needs the admin permission; a refused change writes nothing', async () => {
    const worker = await createApp(t.api, uniqueName('worker'), [{ permission: 'produce', topic: '*' }, { permission: 'consume', group: '*' }]);
    const topic = uniqueName('never');
    for (const [what, call] of [
      ['create a topic', (api: Api) => api.post('/api/v1/admin/topics', { name: topic, queues: 1 })],
      ['list topics', (api: Api) => api.get('/api/v1/admin/topics')],
      ['create an app', (api: Api) => api.post('/api/v1/admin/apps', { name: uniqueName('sneaky'), grants: [{ permission: 'admin' }] })],
      ['list apps', (api: Api) => api.get('/api/v1/admin/apps')],
      ['list jobs', (api: Api) => api.get('/api/v1/admin/jobs')],
    ] as const) {
      assertUnauthenticated(await call(anonymous), `${what} without a token`);
      assertForbidden(await call(worker.api), `${what} by a non-admin`);
    }
    assert.equal((await t.api.get(`/api/v1/admin/topics/${topic}`)).status, 404, 'the refused topic was not created');
    assert.equal(await t.sql.count('app', 'name LIKE ?', ['sneaky%']), 0);
    assert.equal((await t.api.get('/api/v1/admin/topics')).status, 200);
  });

  test('health, readiness and metrics need no token; unknown /api paths do', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await anonymous.get(path)).status, 200, path);
    assertUnauthenticated(await anonymous.get('/api/v1/nothing-here'), 'an unknown /api path');
    assert.equal((await t.api.get('/api/v1/nothing-here')).status, 404);
  });
});

describe('grants', () => {
  test('wildcards: `prefix.*` covers names under the prefix, `*` every name', async () => {
    const eu = await createTopic(t.api, `${uniqueName('sales')}.eu`, 1);
    const prefix = eu.name.slice(0, -'.eu'.length);
    await createTopic(t.api, prefix, 1);
    const app = await createApp(t.api, uniqueName('wild'), [{ permission: 'produce', topic: `${prefix}.*` }]);
    assert.equal((await app.api.post(`/api/v1/topics/${eu.name}/messages`, { messages: [{ body: 1 }] })).status, 201);
    assertForbidden(await app.api.post(`/api/v1/topics/${prefix}/messages`, { messages: [{ body: 1 }] }), 'the prefix itself is not under it');
    const any = await createApp(t.api, uniqueName('any'), [{ permission: 'produce', topic: '*' }]);
    assert.equal((await any.api.post(`/api/v1/topics/${prefix}/messages`, { messages: [{ body: 1 }] })).status, 201);
  });

  test("a group's retry and dead topics take only an admin's messages, whatever a grant's wildcard", async () => {
    const topic = uniqueName('paid');
    await createTopic(t.api, topic, 1);
    const group = uniqueName('g');
    await t.api.post('/api/v1/admin/groups', { name: group });
    const sub = await t.api.post(`/api/v1/admin/groups/${group}/subscriptions`, { topic });
    const everything = await createApp(t.api, uniqueName('everything'), [{ permission: 'produce', topic: '*' }, { permission: 'consume', group: '*' }]);
    for (const side of [sub.body.retryTopic as string, sub.body.deadTopic as string]) {
      assertForbidden(await everything.api.post(`/api/v1/topics/${side}/messages`, { messages: [{ body: 'forged' }] }), `produce into ${side}`);
      assert.equal((await t.api.post(`/api/v1/topics/${side}/messages`, { messages: [{ body: 'admin' }] })).status, 201, `admin into ${side}`);
    }
    // Subscribing a group to them is an admin call.
    assertForbidden(await everything.api.post(`/api/v1/admin/groups/${uniqueName('thief')}/subscriptions`, { topic: sub.body.deadTopic }), 'subscribe to a dead topic');
  });

  test('granting and revoking a permission applies at once on this broker, and is audited by the acting app', async () => {
    const f = await fixture();
    const app = await createApp(t.api, uniqueName('late'));
    const path = `/api/v1/topics/${f.topic}/messages`;
    assertForbidden(await app.api.post(path, { messages: [{ body: 1 }] }), 'before the grant');
    const grant = { permission: 'produce', topic: f.topic };
    const added = await t.api.post(`/api/v1/admin/apps/${app.name}/grants`, grant);
    assert.equal(added.status, 201);
    assert.deepEqual(added.body, { app: app.name, grant, added: true });
    assert.equal((await t.api.post(`/api/v1/admin/apps/${app.name}/grants`, grant)).body.added, false, 'granting twice is harmless');
    assert.equal((await app.api.post(path, { messages: [{ body: 1 }] })).status, 201);
    const removed = await t.api.delete(`/api/v1/admin/apps/${app.name}/grants`, grant);
    assert.deepEqual(removed.body, { app: app.name, grant, removed: true });
    assertForbidden(await app.api.post(path, { messages: [{ body: 1 }] }), 'after the revoke');
    const audit = await t.sql.rows<{ actor: string; action: string; detail: string }>('SELECT actor, action, detail FROM audit_log WHERE target = ? ORDER BY id', [`app:${app.name}`]);
    assert.deepEqual(audit.map((a) => a.action), ['app.create', 'app.grant', 'app.revoke-grant']);
    assert.ok(audit.every((a) => a.actor.startsWith('admin@')));
    assert.ok(audit.every((a) => !a.detail?.includes(app.token)), 'the audit log never holds a token');
  });

  test('bad grants and app names are 400s naming the field', async () => {
    const app = await createApp(t.api, uniqueName('strict'));
    for (const bad of [{ permission: 'produce' }, { permission: 'consume', topic: 'x' }, { permission: 'admin', group: 'x' }, { permission: 'read', topic: 'x' }, { permission: 'produce', topic: 'a*' }, { permission: 'produce', topic: 'x', extra: 1 }]) {
      const res = await t.api.post(`/api/v1/admin/apps/${app.name}/grants`, bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
    assert.equal((await t.api.post('/api/v1/admin/apps', { name: 'has space' })).status, 400);
    assert.equal((await t.api.post('/api/v1/admin/apps', {})).status, 400);
    assert.equal((await t.api.post('/api/v1/admin/apps/nobody/grants', { permission: 'admin' })).body.error.code, 'APP_NOT_FOUND');
  });
});

describe('apps and tokens', () => {
  test('a created token is shown once: stored only as its SHA-256, never listed', async () => {
    const app = await createApp(t.api, uniqueName('shown-once'), [{ permission: 'consume', group: 'g1' }]);
    assert.match(app.token, /^tmq_[A-Za-z0-9_-]{43}$/, '256 random bits');
    const [row] = await t.sql.rows<{ token_hash: Buffer }>('SELECT token_hash FROM app_token WHERE id = ?', [app.tokenId]);
    assert.deepEqual(row!.token_hash, createHash('sha256').update(app.token).digest());
    const listed = await t.api.get('/api/v1/admin/apps');
    assert.equal(listed.status, 200);
    const mine = (listed.body.apps as { name: string }[]).find((a) => a.name === app.name);
    assert.deepEqual(Object.keys(mine!).sort(), ['createdAt', 'grants', 'name', 'tokens']);
    assert.deepEqual((await t.api.get(`/api/v1/admin/apps/${app.name}`)).body.grants, [{ permission: 'consume', group: 'g1' }]);
    const text = JSON.stringify(listed.body);
    assert.ok(!text.includes(app.token) && !text.includes(row!.token_hash.toString('hex')) && !text.includes(row!.token_hash.toString('base64')));
    assert.equal((await t.api.post('/api/v1/admin/apps', { name: app.name })).status, 409);
  });

  test('rotation: a second token works beside the first; revoking the first leaves the second', async () => {
    const f = await fixture();
    const app = await createApp(t.api, uniqueName('rotating'), [{ permission: 'produce', topic: f.topic }]);
    const added = await t.api.post(`/api/v1/admin/apps/${app.name}/tokens`);
    assert.equal(added.status, 201);
    assert.notEqual(added.body.token, app.token);
    const second = app.api.as(added.body.token);
    const path = `/api/v1/topics/${f.topic}/messages`;
    assert.equal((await app.api.post(path, { messages: [{ body: 'old' }] })).status, 201);
    assert.equal((await second.post(path, { messages: [{ body: 'new' }] })).status, 201);
    assert.equal((await t.api.get(`/api/v1/admin/apps/${app.name}`)).body.tokens.length, 2);
    const revoked = await t.api.delete(`/api/v1/admin/apps/${app.name}/tokens/${app.tokenId}`);
    assert.equal(revoked.status, 200);
    assertUnauthenticated(await app.api.post(path, { messages: [{ body: 'old' }] }), 'the revoked token');
    assert.equal((await second.post(path, { messages: [{ body: 'new' }] })).status, 201);
    assert.equal((await t.api.delete(`/api/v1/admin/apps/${app.name}/tokens/${app.tokenId}`)).body.error.code, 'TOKEN_NOT_FOUND');
  });

  test('a token revoked through another broker stops working there within authCacheMs', async () => {
    const f = await fixture();
    const other = await startBroker(testConfig(t.database.url, { authCacheMs: 300 }), createLogger('error', 'test-broker-2'));
    try {
      const app = await createApp(t.api, uniqueName('revoked'), [{ permission: 'produce', topic: f.topic }]);
      const there = apiClient(`http://127.0.0.1:${other.port}`, app.token);
      const path = `/api/v1/topics/${f.topic}/messages`;
      assert.equal((await there.post(path, { messages: [{ body: 'cached' }] })).status, 201);
      assert.equal((await t.api.delete(`/api/v1/admin/apps/${app.name}/tokens/${app.tokenId}`)).status, 200);
      await waitFor('the other broker to refuse the revoked token', async () => (await there.post(path, { messages: [{ body: 'late' }] })).status === 401, 5_000, 50);
    } finally {
      await other.stop();
    }
  });

  test('deleting an app ends its tokens; the last usable admin can not be removed', async () => {
    const app = await createApp(t.api, uniqueName('doomed'), [{ permission: 'admin' }]);
    assert.equal((await app.api.get('/api/v1/admin/apps')).status, 200);
    const deleted = await t.api.delete(`/api/v1/admin/apps/${app.name}`);
    assert.deepEqual(deleted.body, { name: app.name, deleted: true });
    assertUnauthenticated(await app.api.get('/api/v1/admin/apps'), 'a deleted app');
    assert.equal(await t.sql.count('app_token', 'id = ?', [app.tokenId]), 0);

    const refused = await t.api.delete('/api/v1/admin/apps/admin');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'CONFLICT');
    assert.equal((await t.api.delete('/api/v1/admin/apps/admin/grants', { permission: 'admin' })).status, 409);
    assert.equal((await t.api.get('/api/v1/admin/apps')).status, 200, 'the admin still works');
  });
});

describe('TABLEMQ_AUTH=off', () => {
  test('every route works without a token, as before auth existed, and changes are audited as anonymous', async () => {
    const open = await startTestBroker('auth_off', { auth: 'off' });
    try {
      const api = open.api.as(null);
      const topic = uniqueName('open');
      await createTopic(api, topic, 1);
      await createGroup(api, uniqueName('open-g'), [topic]);
      await produce(api, topic, [{ body: 'x' }]);
      const [row] = await open.sql.rows<{ actor: string }>('SELECT actor FROM audit_log WHERE target = ?', [`topic:${topic}`]);
      assert.match(row!.actor, /^anonymous@/);
      assert.equal(await open.sql.count('app'), 0, 'no admin app is made with auth off');
    } finally {
      await open.close();
    }
  });
});
