import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { parseMysqlUrl } from '../shared/config';
import { createMetadataDb } from '../shared/db/metadata-db';
import { SecretBox } from '../shared/secrets/secret-box';
import { migrationSource } from '../migrations';
import { startBroker } from '../broker/server';
import { apiClient, createTopic, produce, startTestBroker, testConfig, uniqueName, type TestBroker } from './helpers/broker';
import { capturingLogger } from './helpers/log';
import { freshDatabase, MYSQL, sqlClient } from './helpers/db';
import { startTestJobs } from './helpers/jobs';

const KEY = randomBytes(32).toString('hex');
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

/** A MariaDB user with a real password, allowed into one database only (dropped after the tests). */
async function passwordUser(database: string) {
  const user = `tmq_sec_${randomBytes(4).toString('hex')}`;
  const conn = await mysql.createConnection(MYSQL);
  await conn.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, PASSWORD]);
  await conn.query(`CREATE USER ?@'localhost' IDENTIFIED BY ?`, [user, PASSWORD]);
  for (const host of ['%', 'localhost']) await conn.query(`GRANT ALL ON \`${database}\`.* TO ?@?`, [user, host]);
  await conn.end();
  return {
    user,
    async drop() {
      const c = await mysql.createConnection(MYSQL);
      for (const host of ['%', 'localhost']) await c.query('DROP USER IF EXISTS ?@?', [user, host]);
      await c.end();
    },
  };
}

let t: TestBroker;
let nodeDb: Awaited<ReturnType<typeof freshDatabase>>;
let nodeUser: Awaited<ReturnType<typeof passwordUser>>;
before(async () => {
  t = await startTestBroker('secrets', { secretKey: KEY });
  nodeDb = await freshDatabase('secrets_node');
  nodeUser = await passwordUser(nodeDb.name);
});
after(async () => {
  await t?.close();
  await nodeDb?.drop();
  await nodeUser?.drop();
});

describe('db node passwords at rest', () => {
  test('are stored sealed with AES-256-GCM, never returned, and opened to serve produce, reads and portal-jobs', async () => {
    const add = await t.api.post('/api/v1/admin/db-nodes', { name: 'locked', host: '127.0.0.1', port: 3306, database: nodeDb.name, user: nodeUser.user, password: PASSWORD });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    const [row] = await t.sql.rows<{ password: string }>("SELECT password FROM db_node WHERE name = 'locked'");
    assert.match(row!.password, /^aes-256-gcm:/);
    assert.ok(!row!.password.includes(PASSWORD));
    assert.equal(SecretBox.fromConfig({ secretKey: KEY }).open(row!.password), PASSWORD);

    for (const listed of [add.body, (await t.api.get('/api/v1/admin/db-nodes')).body, (await t.api.get('/api/v1/admin/db-nodes/locked')).body]) {
      const text = JSON.stringify(listed);
      assert.ok(!text.includes('password') && !text.includes(PASSWORD) && !text.includes(row!.password), text);
    }
    const audit = JSON.stringify(await t.sql.rows("SELECT detail FROM audit_log WHERE target = 'db-node:locked'"));
    assert.ok(!audit.includes(PASSWORD));

    const topic = await createTopic(t.api, uniqueName('on-locked'), 1, { dbNode: 'locked', retentionHours: 1 });
    const [stored] = await produce(t.api, topic.name, [{ body: 'sealed node' }, { body: 'second' }]);
    const back = await t.api.get(`/api/v1/topics/${topic.name}/queues/${stored!.queueId}/messages/${stored!.id}`);
    assert.equal(back.body.body, 'sealed node');

    // portal-jobs opens the same password: clean-history deletes the expired row on that node.
    const node = await sqlClient(nodeDb.name);
    await node.rows(`UPDATE \`${topic.queues[0]!.table}\` SET created_at = NOW(3) - INTERVAL 2 HOUR WHERE id = ?`, [stored!.id]);
    const jobs = await startTestJobs(t.database.url, { secretKey: KEY });
    try {
      const outcome = await jobs.runOnce('clean-history');
      assert.deepEqual(outcome.kind === 'finished' && outcome.status, 'succeeded', JSON.stringify(outcome));
    } finally {
      await jobs.stop();
    }
    assert.equal(await node.count(topic.queues[0]!.table), 1);
    await node.end();
  });

  test('rows written before encryption keep working, and are sealed once a key is configured', async () => {
    const database = await freshDatabase('secrets_legacy');
    try {
      // The schema as it was before passwords had a format: plain text in db_node.password.
      const db = createMetadataDb(parseMysqlUrl(database.url), 2);
      for (let i = 0; i < 3; i += 1) await db.migrate.up({ migrationSource });
      const target = parseMysqlUrl(database.url);
      await db('db_node').insert({ name: 'default', host: target.host, port: target.port, database_name: target.database, user: target.user, password: target.password });
      await db('db_node').insert({ name: 'legacy', host: '127.0.0.1', port: 3306, database_name: nodeDb.name, user: nodeUser.user, password: PASSWORD });
      await db.destroy();

      const withoutKey = capturingLogger();
      const plain = await startBroker(testConfig(database.url), withoutKey.logger);
      const sql = await sqlClient(database.name);
      try {
        assert.deepEqual((await sql.rows<{ password: string }>("SELECT password FROM db_node WHERE name = 'legacy'"))[0]!.password, `plain:${PASSWORD}`);
        const api = apiClient(`http://127.0.0.1:${plain.port}`);
        const topic = await createTopic(api, uniqueName('legacy'), 1, { dbNode: 'legacy' });
        await produce(api, topic.name, [{ body: 'plain node' }]);
        assert.equal(withoutKey.lines.filter((l) => l.includes('TABLEMQ_SECRET_KEY')).length, 1, 'a missing key is said once at start');
      } finally {
        await plain.stop();
      }

      const withKey = capturingLogger();
      const sealed = await startBroker(testConfig(database.url, { secretKey: KEY }), withKey.logger);
      try {
        const rows = await sql.rows<{ name: string; password: string }>('SELECT name, password FROM db_node ORDER BY id');
        assert.ok(rows.every((r) => r.password.startsWith('aes-256-gcm:')), JSON.stringify(rows));
        assert.equal(SecretBox.fromConfig({ secretKey: KEY }).open(rows[1]!.password), PASSWORD);
        const api = apiClient(`http://127.0.0.1:${sealed.port}`);
        const topic = await createTopic(api, uniqueName('resealed'), 1, { dbNode: 'legacy' });
        await produce(api, topic.name, [{ body: 'sealed now' }]);
        assert.ok(!withKey.lines.some((l) => l.includes('TABLEMQ_SECRET_KEY')));
      } finally {
        await sealed.stop();
        await sql.end();
      }
    } finally {
      await database.drop();
    }
  });

  test('a sealed password does not open without its key or with another key, and the message names TABLEMQ_SECRET_KEY', () => {
    const stored = SecretBox.fromConfig({ secretKey: KEY }).seal('s3cret');
    assert.throws(() => SecretBox.fromConfig({ secretKey: '' }).open(stored), /TABLEMQ_SECRET_KEY/);
    assert.throws(() => SecretBox.fromConfig({ secretKey: randomBytes(32).toString('base64') }).open(stored), /TABLEMQ_SECRET_KEY/);
    const tampered = stored.slice(0, -4) + (stored.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.throws(() => SecretBox.fromConfig({ secretKey: KEY }).open(tampered));
    assert.notEqual(SecretBox.fromConfig({ secretKey: KEY }).seal('s3cret'), stored, 'a fresh IV each time');
  });
});
