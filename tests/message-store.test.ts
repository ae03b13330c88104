import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { insertBatches } from '../broker/produce/group-commit/write-transaction';
import type { NewMessage } from '../shared/messages/message';
import { createQueueTableSql } from '../shared/messages/sql/create-queue-table';
import { readMessagesJson } from '../shared/messages/sql/read-messages-json';
import { freshDatabase, MYSQL } from './helpers/db';
import { startPrivateMariaDb } from './helpers/private-mariadb';

let db: Awaited<ReturnType<typeof freshDatabase>>;
before(async () => {
  db = await freshDatabase('store');
});
after(async () => {
  await db?.drop();
});

/** A pool whose sessions run with or without NO_BACKSLASH_ESCAPES, as a node's sql_mode may. */
async function poolWith(noBackslashEscapes: boolean) {
  const pool = mysql.createPool({ ...MYSQL, database: db.name, charset: 'utf8mb4', connectionLimit: 2, multipleStatements: true });
  pool.pool.on('connection', (conn) => {
    const mode = noBackslashEscapes ? "CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')" : "REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')";
    conn.query(`SET SESSION sql_mode = ${mode}`, () => undefined);
  });
  return pool;
}

const tricky = [
  '"plain"',
  `"it's"`,
  '"back\\\\slash"',
  `"\\\\'"`,
  `"''\\\\\\\\''"`,
  '"\\u0000 nul escape"',
  '"é 😀 ünïcödé"',
  '{"a":[1,2,{"b":"x\\"y"}]}',
];
const message = (body: string): NewMessage => ({ tag: null, key: null, traceId: null, headers: null, body, retryCount: 0 });

for (const noBackslashEscapes of [false, true]) {
  describe(`queue-table writes with NO_BACKSLASH_ESCAPES ${noBackslashEscapes ? 'on' : 'off'}`, () => {
    test('bodies with quotes, backslashes and any characters are stored byte for byte', async () => {
      const pool = await poolWith(noBackslashEscapes);
      try {
        const table = noBackslashEscapes ? 'mq_000001' : 'mq_000002';
        await pool.query(createQueueTableSql(table));
        const { ids } = await insertBatches(pool, [{ table, messages: tricky.map(message) }], { maxTripBytes: 1 << 20, idStep: 1 });
        const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT id, body FROM ${table} ORDER BY id`);
        assert.deepEqual(rows.map((r) => Number(r.id)), ids[0]);
        assert.deepEqual(rows.map((r) => (r.body as Buffer).toString('utf8')), tricky);
      } finally {
        await pool.end();
      }
    });

    test('tag, key, traceId and headers with quotes and backslashes are stored as sent, whatever the sql_mode', async () => {
      const pool = await poolWith(noBackslashEscapes);
      try {
        const table = noBackslashEscapes ? 'mq_000021' : 'mq_000022';
        await pool.query(createQueueTableSql(table));
        const injection = "a', NULL, NULL, NULL, 0x22696e6a22, 7)#";
        const texts = [injection, "a\\', 1, 1, 1, 0x31, 9)#", "\\", "'", "x\u0000y", ...tricky];
        const rows = texts.map((t): NewMessage => ({ tag: t, key: t, traceId: t, headers: JSON.stringify({ h: t }), body: '"b"', retryCount: 0 }));
        await insertBatches(pool, [{ table, messages: rows }], { maxTripBytes: 1 << 20, idStep: 1 });
        const [stored] = await pool.query<mysql.RowDataPacket[]>(`SELECT tag, msg_key, trace_id, headers, body, retry_count FROM ${table} ORDER BY id`);
        assert.deepEqual(
          stored.map((r) => [r.tag, r.msg_key, r.trace_id, r.headers, (r.body as Buffer).toString(), r.retry_count]),
          texts.map((t) => [t, t, t, JSON.stringify({ h: t }), '"b"', 0]),
        );
      } finally {
        await pool.end();
      }
    });
  });
}

describe('several queues in one write', () => {
  test('each table gets its rows with consecutive ids, and the reads hand them back as API JSON', async () => {
    const pool = await poolWith(false);
    try {
      for (const t of ['mq_000003', 'mq_000004']) await pool.query(createQueueTableSql(t));
      const { ids } = await insertBatches(
        pool,
        [
          { table: 'mq_000003', messages: ['1', '2', '3'].map(message) },
          { table: 'mq_000004', messages: ['"x"'].map(message) },
          { table: 'mq_000003', messages: ['4'].map(message) },
        ],
        { maxTripBytes: 40, idStep: 1 }, // a tiny trip bound: every INSERT is its own round trip of the one transaction
      );
      assert.equal(ids[2]![0], ids[0]![2]! + 1, 'the second INSERT into mq_000003 follows the first');
      const [three, four] = await readMessagesJson(pool, [
        { table: 'mq_000003', topic: 't', queueId: 3, afterId: 0, limit: 10, maxBytes: 1 << 20 },
        { table: 'mq_000004', topic: 't', queueId: 4, afterId: 0, limit: 10, maxBytes: 1 << 20 },
      ]).then((reads) => reads.map((r) => r.rows));
      assert.deepEqual(three!.map((m) => (JSON.parse(m.json.toString()) as { body: unknown }).body), [1, 2, 3, 4]);
      assert.deepEqual(four!.map((m) => JSON.parse(m.json.toString()) as unknown), [
        { topic: 't', queueId: 4, id: ids[1]![0], body: 'x', key: null, tag: null, traceId: null, headers: null, retryCount: 0, createdAt: (JSON.parse(four![0]!.json.toString()) as { createdAt: string }).createdAt },
      ]);
    } finally {
      await pool.end();
    }
  });
});

describe('prepared INSERTs (large groups of rows)', () => {
  const padded = (i: number) => JSON.stringify({ i, pad: 'p'.repeat(400), tricky: tricky[i % tricky.length] });

  test('a large group is written as text rest + prepared chunk, ids per row, bodies (strings or Buffers) byte for byte', async () => {
    const pool = await poolWith(false);
    try {
      await pool.query(createQueueTableSql('mq_000011'));
      const bodies = Array.from({ length: 37 }, (_, i) => padded(i)); // 5 as text, 32 prepared
      // Odd rows as Buffers, as the scheduler hands over bodies it read back from MySQL.
      const written = bodies.map((b, i) => ({ ...message(b), body: i % 2 === 1 ? Buffer.from(b) : b }));
      const result = await insertBatches(pool, [{ table: 'mq_000011', messages: written }], { maxTripBytes: 1 << 20, idStep: 1 });
      assert.equal(result.statements, 2);
      const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT id, body FROM mq_000011 ORDER BY id');
      assert.deepEqual(rows.map((r) => Number(r.id)), result.ids[0], 'the ids handed back are the rows, in order');
      assert.deepEqual(rows.map((r) => (r.body as Buffer).toString('utf8')), bodies);
    } finally {
      await pool.end();
    }
  });

  test('text and prepared INSERTs for several tables commit together, or not at all', async () => {
    const pool = mysql.createPool({ ...MYSQL, database: db.name, connectionLimit: 1, multipleStatements: true });
    try {
      for (const t of ['mq_000012', 'mq_000013']) await pool.query(createQueueTableSql(t));
      const big = Array.from({ length: 25 }, (_, i) => message(padded(i)));
      const write = () =>
        insertBatches(
          pool,
          [
            { table: 'mq_000012', messages: [message('"small"')] },
            { table: 'mq_000013', messages: big },
          ],
          { maxTripBytes: 1 << 20, idStep: 1 },
        );
      const ok = await write();
      assert.equal(ok.statements, 2);
      assert.equal(ok.ids[1]!.length, 25);

      // The prepared INSERT fails after the text one ran: nothing of the write may stay.
      await pool.query('DROP TABLE mq_000013');
      await assert.rejects(write(), /mq_000013/);
      const other = await mysql.createConnection({ ...MYSQL, database: db.name });
      try {
        const count = async (table: string) => Number((await other.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`))[0][0]!.n);
        assert.equal(await count('mq_000012'), 1, 'the text INSERT of the failed write was rolled back');
        // The one pooled connection is not left inside a transaction: the next write is visible to others.
        await pool.query(createQueueTableSql('mq_000013'));
        await write();
        assert.equal(await count('mq_000013'), 25);
        assert.equal(await count('mq_000012'), 2, 'the first and the last write; the failed one never commits later');
      } finally {
        await other.end();
      }
    } finally {
      await pool.end();
    }
  });

  test('when the server allows no more prepared statements, the rows go as text', async () => {
    // A server of the test's own with the limit at 0: the shared server's global limit is never touched.
    const server = await startPrivateMariaDb({ args: ['--max-prepared-stmt-count=0'] });
    await server.query('CREATE DATABASE store_noprep');
    const pool = mysql.createPool({ ...server.connection, database: 'store_noprep', charset: 'utf8mb4', connectionLimit: 2, multipleStatements: true });
    try {
      await pool.query(createQueueTableSql('mq_000014'));
      const bodies = Array.from({ length: 40 }, (_, i) => padded(i));
      const result = await insertBatches(pool, [{ table: 'mq_000014', messages: bodies.map(message) }], { maxTripBytes: 1 << 20, idStep: 1 });
      const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT id, body FROM mq_000014 ORDER BY id');
      assert.deepEqual(rows.map((r) => Number(r.id)), result.ids[0]);
      assert.deepEqual(rows.map((r) => (r.body as Buffer).toString('utf8')), bodies);
    } finally {
      await pool.end();
      await server.stop();
    }
  });
});
