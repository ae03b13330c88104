import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGroup, createTopic, drain, joinGroup, produce, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { sqlClient } from './helpers/db';
import { sampleSum, scrape } from './helpers/metrics';

let t: TestBroker;
before(async () => {
  // A short grace so the test can watch a rollback hole being passed.
  t = await startTestBroker('gaps', { produceStatementTimeoutMs: 500, holeGraceMs: 1500 });
});
after(async () => {
  await t?.close();
});


async function setup(label: string) {
  const topic = uniqueName(label);
  const group = uniqueName('g');
  const created = await createTopic(t.api, topic, 1);
  await createGroup(t.api, group, [topic]);
  const consumer = await joinGroup(t.api, group, 'c');
  return { topic, table: created.queues[0]!.table, queueId: created.queues[0]!.id, consumer };
}

describe('id holes', () => {
  test('a message still being written holds back the ones after it, then all arrive in order', async () => {
    const { topic, table, consumer } = await setup('inflight');
    await produce(t.api, topic, [{ body: 'first' }]);
    assert.deepEqual((await drain(consumer, 1)).map((m) => m.body), ['first']);

    const writer = await sqlClient(t.database.name);
    await writer.conn.query('START TRANSACTION');
    await writer.conn.query(`INSERT INTO \`${table}\` (body) VALUES (?)`, [Buffer.from('"slow"')]);
    await produce(t.api, topic, [{ body: 'later-1' }, { body: 'later-2' }]);

    const early = await consumer.pulled({ waitMs: 300 });
    assert.deepEqual(early.messages, [], 'nothing is handed out past the uncommitted id');
    await writer.conn.query('COMMIT');
    await writer.end();
    const rest = await drain(consumer, 3, 5000);
    assert.deepEqual(rest.map((m) => m.body), ['slow', 'later-1', 'later-2']);
  });

  test('a rolled-back insert leaves a hole that is passed once older than the grace period', async () => {
    const { topic, table, queueId, consumer } = await setup('rollback');
    await produce(t.api, topic, [{ body: 'a' }]);
    const writer = await sqlClient(t.database.name);
    await writer.conn.query('START TRANSACTION');
    await writer.conn.query(`INSERT INTO \`${table}\` (body) VALUES (?), (?)`, [Buffer.from('"ghost1"'), Buffer.from('"ghost2"')]);
    await writer.conn.query('ROLLBACK');
    await writer.end();
    await produce(t.api, topic, [{ body: 'b' }, { body: 'c' }]);

    const first = await consumer.pulled();
    assert.deepEqual(first.messages.map((m) => m.body), ['a'], 'stops at the young hole');
    assert.ok(sampleSum(await scrape(t.api), 'tablemq_id_holes_waited_total', { queue: queueId }) >= 1, 'the wait is counted');
    assert.equal(sampleSum(await scrape(t.api), 'tablemq_id_holes_skipped_total', { queue: queueId }), 0);
    await consumer.commit(first.positions);
    // The hole is passed once it is older than the grace period: drain polls until then.
    const rest = await drain(consumer, 2, 5000);
    assert.deepEqual(rest.map((m) => m.body), ['b', 'c']);
    assert.equal(sampleSum(await scrape(t.api), 'tablemq_id_holes_skipped_total', { queue: queueId }), 1, 'then the pass');
  });

  test('a consumer whose offset fell below deleted history continues from the oldest remaining message', async () => {
    const { topic, table, consumer } = await setup('retention');
    const sent = await produce(t.api, topic, Array.from({ length: 20 }, (_, i) => ({ body: i })));
    await t.sql.rows(`UPDATE \`${table}\` SET created_at = created_at - INTERVAL 1 HOUR`);
    await t.sql.rows(`DELETE FROM \`${table}\` WHERE id <= ?`, [sent[9]!.id]);
    const got = await drain(consumer, 10, 3000);
    assert.deepEqual(got.map((m) => m.body), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });
});
