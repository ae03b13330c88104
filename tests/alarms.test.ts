import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { PortalJobs } from '../portal-jobs/app';
import { createGroup, createTopic, drain, joinGroup, produce, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { startTestJobs } from './helpers/jobs';

/** A webhook receiver: every JSON body POSTed to it, in order. */
async function startWebhook() {
  const received: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let t: TestBroker;
let jobs: PortalJobs;
let hook: Awaited<ReturnType<typeof startWebhook>>;
before(async () => {
  t = await startTestBroker('alarms');
  hook = await startWebhook();
  jobs = await startTestJobs(t.database.url, { alertWebhookUrl: hook.url, alertMinSpareQueues: 1 });
});
after(async () => {
  await jobs?.stop();
  await t?.close();
  await hook?.close();
});

async function checkAlarms() {
  const outcome = await jobs.runOnce('check-alarms');
  assert.ok(outcome.kind === 'finished' && outcome.status === 'succeeded', JSON.stringify(outcome));
}

const admin = '/api/v1/admin';

describe('lag and capacity alarms', () => {
  test('a lag alarm fires once when the lag passes maxLag and clears once when the group catches up', async () => {
    const topic = uniqueName('watched');
    await createTopic(t.api, topic, 2);
    const group = uniqueName('slow');
    await createGroup(t.api, group);
    const sub = await t.api.post(`${admin}/groups/${group}/subscriptions`, { topic, start: 'earliest', maxLag: 5 });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    assert.equal(sub.body.maxLag, 5);
    const target = `group:${group}/topic:${topic}`;
    const lagAlerts = () => hook.received.filter((a) => a.target === target);

    await produce(t.api, topic, Array.from({ length: 5 }, (_, i) => ({ body: i })));
    await checkAlarms();
    assert.equal(lagAlerts().length, 0, 'a lag of exactly maxLag is no alarm');

    await produce(t.api, topic, [{ body: 'one too many' }]);
    await checkAlarms();
    await checkAlarms();
    assert.deepEqual(lagAlerts().map((a) => [a.kind, a.state, a.value, a.threshold]), [['lag', 'firing', 6, 5]], 'fires once, not on every check');

    const active = await t.api.get(`${admin}/alerts?active=true`);
    assert.equal(active.status, 200);
    assert.deepEqual(active.body.alerts.filter((a: { target: string }) => a.target === target).map((a: { state: string; deliveryStatus: number }) => [a.state, a.deliveryStatus]), [['firing', 204]]);

    const c = await joinGroup(t.api, group, 'c');
    await drain(c, 6, 5_000);
    await checkAlarms();
    await checkAlarms();
    assert.deepEqual(lagAlerts().map((a) => a.state), ['firing', 'cleared'], 'clears once');
    assert.equal(lagAlerts()[1]!.value, 0);
    const now = await t.api.get(`${admin}/alerts?active=true`);
    assert.ok(!now.body.alerts.some((a: { target: string }) => a.target === target));
    const all = await t.api.get(`${admin}/alerts?limit=100`);
    assert.deepEqual(all.body.alerts.filter((a: { target: string }) => a.target === target).map((a: { state: string }) => a.state), ['cleared', 'firing'], 'newest first');
    assert.equal((await t.api.get(`${admin}/alerts?limit=0`)).status, 400);
  });

  test('a node with fewer spare queues than alertMinSpareQueues raises a warning that clears when spares are added', async () => {
    const target = 'db-node:default';
    const spareAlerts = () => hook.received.filter((a) => a.target === target);
    await checkAlarms();
    assert.deepEqual(spareAlerts().map((a) => [a.kind, a.state, a.value, a.threshold]), [['spare-queues', 'firing', 0, 1]]);
    assert.equal((await t.api.post(`${admin}/db-nodes/default/queues`, { count: 1 })).status, 201);
    await checkAlarms();
    await checkAlarms();
    assert.deepEqual(spareAlerts().map((a) => a.state), ['firing', 'cleared']);
    const rows = await t.sql.rows<{ state: string; delivery_status: number }>("SELECT state, delivery_status FROM alert WHERE target = ? ORDER BY id", [target]);
    assert.deepEqual(rows.map((r) => [r.state, r.delivery_status]), [['firing', 204], ['cleared', 204]]);
  });
});
