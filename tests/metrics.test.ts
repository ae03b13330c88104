import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGroup, createTopic, drain, joinGroup, produce, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { sampleSum, scrape } from './helpers/metrics';

let t: TestBroker;
before(async () => {
  // metricsRefreshMs 0: every scrape reads lag and backlog afresh. A scheduler that polls once at
  // start and then only after a minute leaves parked messages alone for the backlog test.
  t = await startTestBroker('metrics', { metricsRefreshMs: 0, schedulerPollMs: 60_000 });
});
after(async () => {
  await t?.close();
});

describe('metrics on prom-client', () => {
  test('group lag per queue grows when a consumer falls behind and shrinks when it commits', async () => {
    const topic = uniqueName('lagged');
    const group = uniqueName('laggers');
    const created = await createTopic(t.api, topic, 2);
    await createGroup(t.api, group, [topic]);
    const lag = async () => sampleSum(await scrape(t.api), 'tablemq_group_lag_messages', { group, topic });
    assert.equal(await lag(), 0);

    const consumer = await joinGroup(t.api, group, 'slow');
    await produce(t.api, topic, Array.from({ length: 5 }, (_, i) => ({ body: i, key: `k${i}` })));
    const text = await scrape(t.api);
    assert.equal(sampleSum(text, 'tablemq_group_lag_messages', { group, topic }), 5);
    for (const q of created.queues) assert.match(text, new RegExp(`tablemq_group_lag_messages\\{group="${group}",topic="${topic}",queue="${q.id}"\\} \\d+`));

    assert.equal((await drain(consumer, 5)).length, 5);
    assert.equal(await lag(), 0, 'caught up');
    await produce(t.api, topic, [{ body: 'x' }, { body: 'y' }, { body: 'z' }]);
    assert.equal(await lag(), 3, 'behind again');
  });

  test('request latency is a histogram per route pattern, never per raw path', async () => {
    const topic = uniqueName('timed');
    await createTopic(t.api, topic, 1);
    await produce(t.api, topic, [{ body: 1 }]);
    await t.api.get(`/api/v1/admin/topics/${topic}`);
    await t.api.get('/api/v1/no-such-route');
    const text = await scrape(t.api);
    const count = (labels: Record<string, string>) => sampleSum(text, 'tablemq_http_request_duration_seconds_count', labels);
    assert.ok(count({ method: 'POST', route: '/api/v1/topics/:topic/messages', status: '201' }) >= 1, 'hot route');
    assert.ok(count({ method: 'GET', route: '/api/v1/admin/topics/:topic', status: '200' }) >= 1, 'express route');
    assert.ok(count({ route: 'unmatched', status: '404' }) >= 1, '404s share one label');
    assert.ok(!text.includes(`route="/api/v1/admin/topics/${topic}"`), 'no raw paths as labels');
    assert.match(text, /tablemq_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/api\/v1\/topics\/:topic\/messages",status="201"\} \d+/);
  });

  test('scheduled backlog counts parked and due messages and the age of the oldest due one', async () => {
    const topic = uniqueName('later');
    await createTopic(t.api, topic, 1);
    const before = await scrape(t.api);
    await produce(t.api, topic, [{ body: 'soon', delayMs: 3_600_000 }, { body: 'later', delayMs: 3_600_000 }]);
    let text = await scrape(t.api);
    assert.equal(sampleSum(text, 'tablemq_scheduled_messages') - sampleSum(before, 'tablemq_scheduled_messages'), 2);
    assert.equal(sampleSum(text, 'tablemq_scheduled_due_messages'), 0);
    assert.equal(sampleSum(text, 'tablemq_scheduled_oldest_due_age_seconds'), 0);

    // As if the scheduler had stalled for a minute: one message is past due and still parked.
    await t.sql.rows('UPDATE scheduled_message SET due_at = NOW(3) - INTERVAL 60 SECOND ORDER BY id LIMIT 1');
    text = await scrape(t.api);
    assert.equal(sampleSum(text, 'tablemq_scheduled_due_messages'), 1);
    const age = sampleSum(text, 'tablemq_scheduled_oldest_due_age_seconds');
    assert.ok(age >= 59 && age < 120, `oldest due age ${age}`);
    await t.sql.rows('DELETE FROM scheduled_message');
  });

  test('pool usage of the metadata pool and of each opened message node pool', async () => {
    const topic = uniqueName('pooled');
    await createTopic(t.api, topic, 1);
    await produce(t.api, topic, [{ body: 1 }]);
    const text = await scrape(t.api);
    assert.equal(sampleSum(text, 'tablemq_db_pool_connections', { pool: 'metadata', state: 'max' }), t.config.metadataPoolSize);
    assert.match(text, /tablemq_db_pool_connections\{pool="node:[^"]+",state="max"\} 6/);
    assert.match(text, /tablemq_db_pool_connections\{pool="node:[^"]+",state="idle"\} [1-6]/);
    assert.match(text, /tablemq_db_pool_waiting_requests\{pool="metadata"\} 0/);
  });

  test('each broker has its own registry: two brokers in one process count apart', async () => {
    const other = await startTestBroker('metrics2');
    try {
      const topic = uniqueName('apart');
      await createTopic(t.api, topic, 1);
      await produce(t.api, topic, [{ body: 1 }, { body: 2 }]);
      assert.equal(sampleSum(await scrape(t.api), 'tablemq_messages_produced_total', { topic }), 2);
      assert.equal(sampleSum(await scrape(other.api), 'tablemq_messages_produced_total', { topic }), 0);
    } finally {
      await other.close();
    }
  });
});
