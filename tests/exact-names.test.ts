import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../shared/logger';
import { createMetadataDb } from '../shared/db/metadata-db';
import { parseMysqlUrl } from '../shared/config';
import { migrationSource } from '../migrations';
import { createGroup, createTopic, joinGroup, produce, startTestBroker, type TestBroker } from './helpers/broker';
import { freshDatabase, sqlClient } from './helpers/db';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('exactnames');
});
after(async () => {
  await t?.close();
});

describe('names are exact (case-sensitive) everywhere', () => {
  test('ORDERS and orders are two topics; produce, read back and consume work on each', async () => {
    const lower = await createTopic(t.api, 'orders', 1);
    const upper = await createTopic(t.api, 'ORDERS', 1);
    assert.notEqual(lower.id, upper.id);
    const [toLower] = await produce(t.api, 'orders', [{ body: 'lower' }]);
    const [toUpper] = await produce(t.api, 'ORDERS', [{ body: 'upper' }]);
    assert.equal(toLower!.queueId, lower.queues[0]!.id);
    assert.equal(toUpper!.queueId, upper.queues[0]!.id);
    assert.equal((await t.api.get('/api/v1/admin/topics/ORDERS')).body.id, upper.id);
    assert.equal((await t.api.get('/api/v1/admin/topics/orders')).body.id, lower.id);
    assert.equal((await t.api.get('/api/v1/admin/topics/Orders')).status, 404);
    assert.equal((await t.api.post('/api/v1/topics/Orders/messages', { messages: [{ body: 1 }] })).status, 404);

    await createGroup(t.api, 'billing', ['ORDERS']);
    await createGroup(t.api, 'BILLING', ['orders']);
    const upperReader = await joinGroup(t.api, 'billing', 'c');
    const lowerReader = await joinGroup(t.api, 'BILLING', 'c');
    assert.deepEqual((await upperReader.pulled({ waitMs: 0 })).messages.map((m) => m.body), ['upper']);
    assert.deepEqual((await lowerReader.pulled({ waitMs: 0 })).messages.map((m) => m.body), ['lower']);
  });

  test('consumer names within a group are exact too', async () => {
    await createGroup(t.api, 'consumers-exact');
    const a = await joinGroup(t.api, 'consumers-exact', 'worker');
    const b = await joinGroup(t.api, 'consumers-exact', 'WORKER');
    assert.notEqual(a.consumerId, b.consumerId);
  });
});

describe('migration 004 on an existing database', () => {
  test('keeps the rows and makes their names exact', async () => {
    const db0 = await freshDatabase('exact-mig');
    const knex = createMetadataDb(parseMysqlUrl(db0.url), 2, createLogger('error', 'test'));
    try {
      await knex.migrate.up({ migrationSource, name: '001_initial' });
      await knex.migrate.up({ migrationSource, name: '002_portal_jobs' });
      await knex.migrate.up({ migrationSource, name: '003_failures_and_schedules' });
      await knex('topic').insert({ name: 'orders', retention_hours: 1, max_message_bytes: 10 });
      await assert.rejects(knex('topic').insert({ name: 'ORDERS', retention_hours: 1, max_message_bytes: 10 }), /Duplicate/, 'before 004 case-insensitive');
      await knex.migrate.latest({ migrationSource });
      await knex('topic').insert({ name: 'ORDERS', retention_hours: 1, max_message_bytes: 10 });
      const sql = await sqlClient(db0.name);
      const rows = await sql.rows<{ name: string }>("SELECT name FROM topic WHERE name = 'orders'");
      assert.deepEqual(rows.map((r) => r.name), ['orders']);
      assert.equal(await sql.count('topic'), 2);
      await sql.end();
    } finally {
      await knex.destroy();
      await db0.drop();
    }
  });
});
