import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { NodeWriter, type NodeInsert } from '../broker/produce/group-commit/node-writer';
import { PendingBudget } from '../broker/produce/group-commit/pending-budget';
import { insertBatches } from '../broker/produce/group-commit/write-transaction';
import type { NewMessage } from '../shared/messages/message';
import { createQueueTableSql } from '../shared/messages/sql/create-queue-table';
import { freshDatabase, MYSQL } from './helpers/db';

let db: Awaited<ReturnType<typeof freshDatabase>>;
let pool: mysql.Pool;
before(async () => {
  db = await freshDatabase('writer');
  pool = mysql.createPool({ ...MYSQL, database: db.name, connectionLimit: 2, multipleStatements: true });
  for (const t of ['mq_000001', 'mq_000002']) await pool.query(createQueueTableSql(t));
});
after(async () => {
  await pool?.end();
  await db?.drop();
});

const message = (body: string): NewMessage => ({ tag: null, key: null, traceId: null, headers: null, body, retryCount: 0 });
const realInsert: NodeInsert = async (batches) => (await insertBatches(pool, batches, { maxTripBytes: 1 << 20, idStep: 1 })).ids;
const limits = { maxRows: 1000, maxBytes: 1 << 20, maxInFlight: 2, returnWaitMs: 0 };

/** Records unhandled rejections while `run` goes on (node:test would only report them after the file). */
async function unhandledDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const record = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', record);
  try {
    await run();
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', record);
  }
  return seen;
}

describe('node writer: a failure after the INSERT', () => {
  test('when announcing the committed rows throws, every request still gets its ids and nothing is unhandled', { timeout: 10_000 }, async () => {
    const budget = new PendingBudget(1 << 20);
    const writer = new NodeWriter(realInsert, limits, budget, () => {
      throw new Error('announcing failed');
    }, () => undefined);
    let answers: PromiseSettledResult<number[]>[] = [];
    const unhandled = await unhandledDuring(async () => {
      answers = await Promise.allSettled([writer.append(1, 'mq_000001', ['1', '2'].map(message)), writer.append(2, 'mq_000002', ['3'].map(message))]);
    });
    assert.deepEqual(unhandled, []);
    assert.deepEqual(answers.map((a) => a.status), ['fulfilled', 'fulfilled'], 'the rows are committed, so the producers are told so');
    const [[rows]] = [await pool.query<mysql.RowDataPacket[]>('SELECT id FROM mq_000001 ORDER BY id')];
    assert.deepEqual((answers[0] as PromiseFulfilledResult<number[]>).value, rows.map((r) => Number(r.id)));
    assert.equal(budget.pendingBytes, 0, 'the write gave back its bytes');
  });

  test('when the ids of a committed write cannot be handed out, every request fails and the writer goes on', { timeout: 10_000 }, async () => {
    const budget = new PendingBudget(1 << 20);
    let broken = true;
    // The INSERT runs and commits; then the answer is unusable (as a driver bug would make it).
    const insert: NodeInsert = async (batches) => {
      const ids = await realInsert(batches);
      return broken ? [] : ids;
    };
    const writer = new NodeWriter(insert, limits, budget, () => undefined, () => undefined);
    let answers: PromiseSettledResult<number[]>[] = [];
    const unhandled = await unhandledDuring(async () => {
      answers = await Promise.allSettled([writer.append(1, 'mq_000001', [message('4')]), writer.append(2, 'mq_000002', [message('5')])]);
    });
    assert.deepEqual(unhandled, []);
    assert.deepEqual(answers.map((a) => a.status), ['rejected', 'rejected']);
    assert.equal(budget.pendingBytes, 0);
    broken = false;
    const ids = await writer.append(1, 'mq_000001', [message('6')]);
    assert.equal(ids.length, 1, 'the next write is answered as usual');
  });
});
