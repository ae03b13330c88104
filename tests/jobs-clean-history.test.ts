import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertLeaseIfAbsent } from '../shared/metadata/jobs';
import type { PortalJobs } from '../portal-jobs/app';
import { createGroup, createTopic, drain, joinGroup, produce, produceSpread, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { startTestJobs } from './helpers/jobs';

let t: TestBroker;
let jobs: PortalJobs;
before(async () => {
  t = await startTestBroker('jobs_clean', { holeGraceMs: 1_000, produceStatementTimeoutMs: 500 });
  // Batches of 3 so a handful of rows needs several of them.
  jobs = await startTestJobs(t.database.url, { cleanupBatchSize: 3, cleanupPauseMs: 5 });
});
after(async () => {
  await jobs?.stop();
  await t?.close();
});

/** Backdates rows by the database's clock, as if they had been produced that long ago. */
async function age(table: string, ids: number[], interval: string) {
  await t.sql.rows(`UPDATE \`${table}\` SET created_at = NOW(3) - INTERVAL ${interval} WHERE id IN (?)`, [ids]);
}

async function idsOf(table: string): Promise<number[]> {
  return (await t.sql.rows<{ id: number }>(`SELECT id FROM \`${table}\` ORDER BY id`)).map((r) => Number(r.id));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function committed(group: string, queueId: number): Promise<number> {
  const rows = await t.sql.rows<{ committed_offset: number }>(
    'SELECT o.committed_offset FROM queue_offset o JOIN consumer_group g ON g.id = o.consumer_group_id WHERE g.name = ? AND o.queue_id = ?',
    [group, queueId],
  );
  return Number(rows[0]?.committed_offset);
}

async function runClean() {
  const outcome = await jobs.runOnce('clean-history');
  assert.equal(outcome.kind, 'finished');
  assert.ok(outcome.kind === 'finished');
  assert.equal(outcome.status, 'succeeded', outcome.error);
  return outcome;
}

describe('clean-history', () => {
  test('deletes exactly the messages older than their topic retention, in several batches, and records the count', async () => {
    const weekly = await createTopic(t.api, uniqueName('weekly'), 2, { retentionHours: 168 });
    const tenDays = await createTopic(t.api, uniqueName('ten-days'), 1, { retentionHours: 240 });
    const group = uniqueName('g');
    await createGroup(t.api, group, [weekly.name]);
    await produceSpread(t.api, weekly.name, range(1, 40).map((i) => ({ body: i })), 2);
    await produce(t.api, tenDays.name, range(1, 5).map((i) => ({ body: i })));

    for (const q of weekly.queues) {
      assert.deepEqual(await idsOf(q.table), range(1, 20));
      await age(q.table, [...range(1, 8), 10, 11, 12], '8 DAY'); // past the 7-day retention
      await age(q.table, [9, 13, 14, 15, 16], '6 DAY'); // within it; 9 sits among old ids
    }
    await age(tenDays.queues[0]!.table, range(1, 5), '8 DAY'); // 8 days is within 10

    const outcome = await runClean();
    for (const q of weekly.queues) assert.deepEqual(await idsOf(q.table), [9, ...range(13, 20)], `queue ${q.id} kept exactly the newer rows`);
    assert.deepEqual(await idsOf(tenDays.queues[0]!.table), range(1, 5), 'a longer retention keeps its 8-day-old rows');

    assert.equal(outcome.counts.deleted, 22);
    // 11 rows per queue in batches of at most 3: ids [1-3] [4-6] [7,8,10] [11,12]
    assert.equal(outcome.counts.batches, 8);
    assert.equal(outcome.counts.unconsumedDeleted, 22, 'the group had consumed none of them');

    const [run] = await t.sql.rows<{ status: string; detail: string; triggered_by: string; finished_at: Date | null }>(
      'SELECT status, detail, triggered_by, finished_at FROM job_run WHERE id = ?',
      [outcome.runId],
    );
    assert.equal(run?.status, 'succeeded');
    assert.equal(run?.triggered_by, 'manual');
    assert.ok(run?.finished_at);
    const detail = JSON.parse(run.detail) as { counts: Record<string, number> };
    assert.equal(detail.counts.deleted, 22);
    assert.equal(detail.counts.unconsumedDeleted, 22);

    // The group's offsets now sit just below the oldest remaining id (9), not in the hole.
    for (const q of weekly.queues) assert.equal(await committed(group, q.id), 8);
  });

  test('a lagging group moves to the oldest remaining id and keeps consuming; a caught-up one is untouched', async () => {
    const topic = await createTopic(t.api, uniqueName('lag'), 1, { retentionHours: 1 });
    const queue = topic.queues[0]!;
    const lagging = uniqueName('lagging');
    const current = uniqueName('current');
    await createGroup(t.api, lagging, [topic.name]);
    await createGroup(t.api, current, [topic.name]);
    await produce(t.api, topic.name, range(1, 30).map((i) => ({ body: i })));
    const slow = await joinGroup(t.api, lagging, 'slow');
    const fast = await joinGroup(t.api, current, 'fast');
    assert.deepEqual((await drain(slow, 5, 5_000, 5)).map((m) => m.body), range(1, 5));
    assert.equal((await drain(fast, 30)).length, 30);
    await age(queue.table, range(1, 20), '2 HOUR');

    const outcome = await runClean();
    assert.equal(outcome.counts.deleted, 20);
    assert.equal(outcome.counts.unconsumedDeleted, 15, 'ids 6..20 were deleted before the lagging group read them');
    assert.equal(await committed(lagging, queue.id), 20, 'moved up to the oldest remaining id − 1');
    assert.equal(await committed(current, queue.id), 30, 'never moved backwards');

    const rest = await drain(slow, 10, 5_000);
    assert.deepEqual(rest.map((m) => m.body), range(21, 30));
    const lag = await t.api.get(`/api/v1/admin/groups/${lagging}/lag`);
    assert.equal(lag.body.totalLag, 0);
  });

  test('GET /api/v1/admin/jobs shows each job with its last runs and the current lease holder', async () => {
    const before = await t.api.get('/api/v1/admin/jobs');
    assert.equal(before.status, 200);
    const clean = before.body.jobs.find((j: { name: string }) => j.name === 'clean-history');
    assert.ok(clean.lastRuns.length >= 2);
    const last = clean.lastRuns[0];
    assert.equal(last.status, 'succeeded');
    assert.equal(last.holder, jobs.ctx.holder);
    assert.equal(last.counts.deleted, 20);
    assert.equal(typeof last.durationMs, 'number');
    assert.ok(last.startedAt && last.finishedAt);
    assert.equal(clean.lease.holder, jobs.ctx.holder);
    assert.equal(clean.lease.held, false, 'a finished run released its lease');

    const expire = before.body.jobs.find((j: { name: string }) => j.name === 'expire-consumers');
    assert.deepEqual(expire, { name: 'expire-consumers', lease: null, idleRuns: 0, lastIdleRunAt: null, lastRuns: [] }, 'listed before it ever ran');

    assert.ok(await insertLeaseIfAbsent(jobs.ctx.db, 'expire-consumers', 'other-host:42:abc', 60_000));
    const held = await t.api.get('/api/v1/admin/jobs?runs=1');
    const expireHeld = held.body.jobs.find((j: { name: string }) => j.name === 'expire-consumers');
    assert.equal(expireHeld.lease.holder, 'other-host:42:abc');
    assert.equal(expireHeld.lease.held, true);
    assert.equal(held.body.jobs.find((j: { name: string }) => j.name === 'clean-history').lastRuns.length, 1);

    // A run by hand respects the lease: it does not run while someone else holds it.
    const refused = await jobs.runOnce('expire-consumers');
    assert.equal(refused.kind, 'lease-held');
    assert.ok(refused.kind === 'lease-held');
    assert.equal(refused.holder, 'other-host:42:abc');
    assert.equal(await t.sql.count('job_run', 'job = ?', ['expire-consumers']), 0);

    assert.equal((await t.api.get('/api/v1/admin/jobs?runs=0')).status, 400);
  });

  test('job history older than jobRunRetentionHours is pruned by clean-history', async () => {
    await t.sql.rows(
      "INSERT INTO job_run (job, holder, started_at, finished_at, status) VALUES ('expire-consumers', 'old', NOW(3) - INTERVAL 200 HOUR, NOW(3) - INTERVAL 200 HOUR, 'succeeded')",
    );
    const outcome = await runClean();
    assert.equal(outcome.counts.jobRunsPruned, 1);
    assert.equal(await t.sql.count('job_run', "holder = 'old'"), 0);
  });
});
