import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { startBroker, type Broker } from '../broker/server';
import { SESSION_SQL_MODE } from '../shared/db/session';
import { createLogger } from '../shared/logger';
import { createSessionPool } from '../shared/messages/node-pools';
import { apiClient, createTopic, testConfig, type Api } from './helpers/broker';
import { startPrivateMariaDb, type PrivateMariaDb } from './helpers/private-mariadb';

/**
 * A db node whose GLOBAL sql_mode has NO_BACKSLASH_ESCAPES: a literal escaped for the default mode
 * (a backslash before the quote) ends early there, and the rest of the string becomes SQL. Every
 * string field of a produce and the admin lookup by key must store and find the text as sent.
 */

/** Ends the tag's literal under NO_BACKSLASH_ESCAPES if it were escaped with backslashes, and writes a body and retry count of its own. */
const INJECTION = "a', NULL, NULL, NULL, 0x22696e6a22, 7)#";
const ATTEMPTS = [INJECTION, "b\\', NULL, NULL, NULL, 0x31, 9)#", "\\'); DROP TABLE topic; -- ", "'", '\\', "x\\u0000y", "q''\\\\''"];

let server: PrivateMariaDb;
let broker: Broker;
let api: Api;
const database = 'tmq_injection';

before(async () => {
  server = await startPrivateMariaDb({ sqlMode: 'NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO' });
  broker = await startBroker(testConfig(server.url(database), { schedulerPollMs: 20 }), createLogger('error', 'test-broker'));
  api = apiClient(`http://127.0.0.1:${broker.port}`);
});
after(async () => {
  await broker?.stop();
  await server?.stop();
});

async function queueRows(table: string) {
  return (await server.query(`SELECT tag, msg_key, trace_id, headers, body, retry_count FROM \`${database}\`.\`${table}\` ORDER BY id`)) as mysql.RowDataPacket[];
}

describe('on a node whose global sql_mode has NO_BACKSLASH_ESCAPES', () => {
  test('the server really runs that mode, and the broker sets its own on every session', async () => {
    const [global] = (await server.query('SELECT @@GLOBAL.sql_mode AS mode')) as { mode: string }[];
    assert.match(global!.mode, /NO_BACKSLASH_ESCAPES/);
    const node = await broker.ctx.catalog.node(1);
    assert.ok(node, 'the default db node exists');
    const { pool } = await broker.ctx.nodes.get(node);
    const [[nodeSession]] = (await pool.query('SELECT @@SESSION.sql_mode AS mode')) as unknown as [{ mode: string }[]];
    assert.equal(nodeSession!.mode, SESSION_SQL_MODE);
    const [[metaSession]] = (await broker.ctx.db.raw('SELECT @@SESSION.sql_mode AS mode')) as [{ mode: string }[]];
    assert.equal(metaSession!.mode, SESSION_SQL_MODE);
  });

  test('an injection attempt through every string field of a produce is stored as sent', async () => {
    const topic = await createTopic(api, 'injected', 1);
    const messages = ATTEMPTS.map((text) => ({ body: { text, [text]: 1 }, tag: text, key: text, traceId: text, headers: { [text]: text, plain: text } }));
    const res = await api.post('/api/v1/topics/injected/messages', { messages });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const rows = await queueRows(topic.queues[0]!.table);
    assert.equal(rows.length, ATTEMPTS.length, 'one row per message, no more');
    rows.forEach((row, i) => {
      const sent = messages[i]!;
      assert.deepEqual(
        { tag: row.tag, key: row.msg_key, traceId: row.trace_id, headers: JSON.parse(row.headers as string), body: JSON.parse((row.body as Buffer).toString()), retryCount: row.retry_count },
        { tag: sent.tag, key: sent.key, traceId: sent.traceId, headers: sent.headers, body: sent.body, retryCount: 0 },
      );
    });
  });

  test('a delayed message (parked in the metadata DB, then moved) keeps every field as sent', async () => {
    const topic = await createTopic(api, 'injected-later', 1);
    const sent = { body: { text: INJECTION }, tag: INJECTION, key: INJECTION, traceId: INJECTION, headers: { [INJECTION]: INJECTION }, delayMs: 1 };
    const res = await api.post('/api/v1/topics/injected-later/messages', { messages: [sent] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    let rows: mysql.RowDataPacket[] = [];
    for (const deadline = Date.now() + 10_000; rows.length === 0 && Date.now() < deadline; ) {
      rows = await queueRows(topic.queues[0]!.table);
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(rows.length, 1, 'the scheduler moved the message into its queue');
    const row = rows[0]!;
    assert.deepEqual(
      [row.tag, row.msg_key, row.trace_id, JSON.parse(row.headers as string), JSON.parse((row.body as Buffer).toString()), row.retry_count],
      [INJECTION, INJECTION, INJECTION, sent.headers, sent.body, 0],
    );
  });

  test('the admin lookup by key finds exactly the message with that key, whatever the key holds', async () => {
    await createTopic(api, 'injected-lookup', 1);
    const res = await api.post('/api/v1/topics/injected-lookup/messages', { messages: [...ATTEMPTS.map((key) => ({ body: { key }, key })), { body: 'other', key: 'other' }] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    for (const key of [...ATTEMPTS, "' OR '1'='1", "\\' OR 1=1 #"]) {
      const found = await api.get(`/api/v1/admin/topics/injected-lookup/messages?key=${encodeURIComponent(key)}&limit=100`);
      assert.equal(found.status, 200, JSON.stringify(found.body));
      const expected = ATTEMPTS.includes(key) ? [{ key }] : [];
      assert.deepEqual(
        found.body.messages.map((m: { body: unknown }) => m.body),
        expected,
        `lookup by key ${JSON.stringify(key)}`,
      );
    }
  });
});

describe('session set-up of a message node pool', () => {
  test('a connection whose set-up failed is dropped, and nothing runs on it', async () => {
    await server.query(`CREATE TABLE IF NOT EXISTS \`${database}\`.setup_probe (n INT)`);
    const errors: string[] = [];
    const pool = createSessionPool(
      { ...server.connection, database, connectionLimit: 2 },
      ["SET SESSION time_zone = '+00:00'", 'SET SESSION no_such_variable = 1'],
      (err) => errors.push(err.message),
    );
    try {
      for (let i = 0; i < 3; i++) await assert.rejects(pool.query('INSERT INTO setup_probe VALUES (1)'));
      assert.equal(errors.length, 3, 'each new connection failed its set-up');
      assert.match(errors[0]!, /no_such_variable/);
      const [count] = (await server.query(`SELECT COUNT(*) AS n FROM \`${database}\`.setup_probe`)) as { n: number }[];
      assert.equal(Number(count!.n), 0, 'no statement ran in a session that was not set up');
      // The pool holds none of the failed connections, so it is still usable once set-up works.
      assert.equal((pool.pool as unknown as { _allConnections: { length: number } })._allConnections.length, 0);
    } finally {
      await pool.end();
    }
  });
});
