import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { insertBatches, readMessagesJson, type NewMessage } from '../shared/messages/message-store';
import { createQueueTableSql } from '../shared/messages/queue-table';
import { freshDatabase, MYSQL } from './helpers/db';

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
        const [first] = await insertBatches(pool, [{ table, messages: tricky.map(message) }], noBackslashEscapes, 1 << 20);
        const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT id, body FROM ${table} ORDER BY id`);
        assert.deepEqual(rows.map((r) => Number(r.id)), tricky.map((_, i) => first! + i));
        assert.deepEqual(rows.map((r) => (r.body as Buffer).toString('utf8')), tricky);
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
      const firsts = await insertBatches(
        pool,
        [
          { table: 'mq_000003', messages: ['1', '2', '3'].map(message) },
          { table: 'mq_000004', messages: ['"x"'].map(message) },
          { table: 'mq_000003', messages: ['4'].map(message) },
        ],
        false,
        40, // a tiny trip bound: every INSERT is its own round trip of the one transaction
      );
      assert.equal(firsts[2], firsts[0]! + 3, 'the second INSERT into mq_000003 follows the first');
      const [three, four] = await readMessagesJson(pool, [
        { table: 'mq_000003', topic: 't', queueId: 3, afterId: 0, limit: 10 },
        { table: 'mq_000004', topic: 't', queueId: 4, afterId: 0, limit: 10 },
      ]);
      assert.deepEqual(three!.map((m) => (JSON.parse(m.json.toString()) as { body: unknown }).body), [1, 2, 3, 4]);
      assert.deepEqual(four!.map((m) => JSON.parse(m.json.toString()) as unknown), [
        { topic: 't', queueId: 4, id: firsts[1], body: 'x', key: null, tag: null, traceId: null, headers: null, retryCount: 0, createdAt: (JSON.parse(four![0]!.json.toString()) as { createdAt: string }).createdAt },
      ]);
    } finally {
      await pool.end();
    }
  });
});
