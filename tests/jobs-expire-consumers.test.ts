import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PortalJobs } from '../portal-jobs/app';
import { JOBS } from '../portal-jobs/jobs';
import { runJob } from '../portal-jobs/run-job';
import { createGroup, createTopic, joinGroup, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { startTestJobs } from './helpers/jobs';
import { waitFor } from './helpers/wait';

const SESSION_MS = 1_500;
const EXPIRY_EVERY_MS = 1_000;

let t: TestBroker;
let jobs: PortalJobs;
before(async () => {
  t = await startTestBroker('jobs_expire', { sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 300 });
  jobs = await startTestJobs(t.database.url, {
    sessionTimeoutMs: SESSION_MS,
    jobsCleanHistoryEnabled: false,
    jobsExpireConsumersCron: '* * * * * *', // every second
  });
});
after(async () => {
  await jobs?.stop();
  await t?.close();
});

/** Queue ids per owner, read from queue_offset itself (no broker call, so no broker-side expiry). */
async function owners(group: string): Promise<Map<number | null, number[]>> {
  const rows = await t.sql.rows<{ queue_id: number; consumer_id: number | null }>(
    'SELECT o.queue_id, o.consumer_id FROM queue_offset o JOIN consumer_group g ON g.id = o.consumer_group_id WHERE g.name = ? ORDER BY o.queue_id',
    [group],
  );
  const out = new Map<number | null, number[]>();
  for (const r of rows) {
    const owner = r.consumer_id === null ? null : Number(r.consumer_id);
    out.set(owner, [...(out.get(owner) ?? []), Number(r.queue_id)]);
  }
  return out;
}

async function twoConsumers(label: string) {
  const topic = await createTopic(t.api, uniqueName(label), 4);
  const group = uniqueName('g');
  await createGroup(t.api, group, [topic.name]);
  const live = await joinGroup(t.api, group, 'live');
  const silent = await joinGroup(t.api, group, 'silent');
  // Every queue the group reads (its topic's, and any the broker subscribes it to besides).
  const split = await owners(group);
  const queueIds = [...split.values()].flat().sort((a, b) => a - b);
  assert.ok(queueIds.length >= 4);
  assert.ok((split.get(live.consumerId)?.length ?? 0) >= 2);
  assert.ok((split.get(silent.consumerId)?.length ?? 0) >= 2);
  return { topic, group, live, silent, queueIds, silentQueues: split.get(silent.consumerId)?.length ?? 0 };
}

describe('expire-consumers', () => {
  test('removes a consumer whose heartbeat is older than the session timeout and gives its queues to the live one', async () => {
    const { group, live, silent, queueIds, silentQueues } = await twoConsumers('expire');
    // The silent consumer's last heartbeat is now past the session timeout; the live one's is fresh.
    await t.sql.rows('UPDATE consumer SET heartbeat_at = NOW(3) - INTERVAL 10 SECOND WHERE id = ?', [silent.consumerId]);
    const generationBefore = Number((await t.sql.rows<{ generation: number }>('SELECT generation FROM consumer_group WHERE name = ?', [group]))[0]?.generation);

    const outcome = await jobs.runOnce('expire-consumers');
    assert.ok(outcome.kind === 'finished', JSON.stringify(outcome));
    assert.equal(outcome.status, 'succeeded', outcome.error);
    assert.deepEqual(outcome.counts, { groups: 1, expiredConsumers: 1, movedQueues: silentQueues, failedGroups: 0 });

    assert.equal(await t.sql.count('consumer', 'id = ?', [silent.consumerId]), 0, 'the silent consumer is gone');
    assert.deepEqual([...(await owners(group)).entries()], [[live.consumerId, queueIds]]);
    const generationAfter = Number((await t.sql.rows<{ generation: number }>('SELECT generation FROM consumer_group WHERE name = ?', [group]))[0]?.generation);
    assert.ok(generationAfter > generationBefore, 'a new generation fences the dead consumer');
    assert.deepEqual(await live.queues(), queueIds);
    assert.equal((await silent.heartbeat()).status, 404);
  });

  test('a scheduled run that expires nobody writes no job_run row: it is counted on its lease and shown by GET /admin/jobs', async () => {
    const rowsBefore = await t.sql.count('job_run', "job = 'expire-consumers'");
    const idleBefore = (await t.api.get('/api/v1/admin/jobs')).body.jobs.find((j: { name: string }) => j.name === 'expire-consumers').idleRuns as number;
    for (const second of [1, 2, 3]) {
      const outcome = await runJob(jobs.ctx, JOBS['expire-consumers'], { kind: 'schedule', slot: new Date(`2020-01-01T00:00:0${second}.000Z`) });
      assert.ok(outcome.kind === 'finished' && outcome.status === 'succeeded', JSON.stringify(outcome));
      assert.equal(outcome.runId, null);
    }
    assert.equal(await t.sql.count('job_run', "job = 'expire-consumers'"), rowsBefore, 'no row for runs that did nothing');
    const listed = (await t.api.get('/api/v1/admin/jobs')).body.jobs.find((j: { name: string }) => j.name === 'expire-consumers');
    assert.equal(listed.idleRuns, idleBefore + 3);
    assert.ok(Date.parse(listed.lastIdleRunAt) > Date.now() - 60_000);
    // An operator's run by hand is always written down, even when it did nothing.
    const manual = await jobs.runOnce('expire-consumers');
    assert.ok(manual.kind === 'finished' && typeof manual.runId === 'number');
    assert.equal(await t.sql.count('job_run', "job = 'expire-consumers'"), rowsBefore + 1);
  });

  test('on schedule, a consumer killed without leaving loses its queues within the session timeout plus one expiry interval', async () => {
    const { group, live, silent, queueIds } = await twoConsumers('scheduled');
    jobs.scheduler.start();
    const killedAt = Date.now();
    // The live consumer keeps heartbeating. It does so straight into the table: a heartbeat through
    // the broker would let the broker rebalance by itself, and this test is about the job.
    let lastBeat: Promise<unknown> = Promise.resolve();
    const beat = setInterval(() => (lastBeat = t.sql.rows('UPDATE consumer SET heartbeat_at = NOW(3) WHERE id = ?', [live.consumerId])), 200);
    try {
      await waitFor('the live consumer to own every queue', async () => {
        const now = await owners(group);
        return now.size === 1 && now.get(live.consumerId)?.length === queueIds.length;
      }, SESSION_MS + EXPIRY_EVERY_MS + 3_000);
    } finally {
      clearInterval(beat);
      await lastBeat;
    }
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs <= SESSION_MS + EXPIRY_EVERY_MS + 500, `took ${tookMs} ms`);
    assert.equal(await t.sql.count('consumer', 'id = ?', [silent.consumerId]), 0);
    const runs = await t.sql.rows<{ status: string; triggered_by: string; scheduled_for: Date | null; detail: string }>(
      "SELECT status, triggered_by, scheduled_for, detail FROM job_run WHERE job = 'expire-consumers' AND triggered_by = 'schedule'",
    );
    assert.ok(runs.length >= 1);
    assert.ok(runs.every((r) => r.status === 'succeeded' && r.scheduled_for !== null && r.scheduled_for.getUTCMilliseconds() === 0));
    assert.ok(runs.every((r) => JSON.parse(r.detail).counts.expiredConsumers > 0), 'only runs that expired someone are written');
  });
});
