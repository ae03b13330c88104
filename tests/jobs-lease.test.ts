import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findLease, insertLeaseIfAbsent } from '../shared/metadata/jobs';
import type { PortalJobs } from '../portal-jobs/app';
import { JOBS } from '../portal-jobs/jobs';
import { acquireLease, LeaseLostError } from '../portal-jobs/lease';
import { runJob } from '../portal-jobs/run-job';
import { freshDatabase, sqlClient } from './helpers/db';
import { startTestJobs } from './helpers/jobs';
import { waitFor } from './helpers/wait';

const LEASE_MS = 900;

let database: Awaited<ReturnType<typeof freshDatabase>>;
let sql: Awaited<ReturnType<typeof sqlClient>>;
let a: PortalJobs;
let b: PortalJobs;
before(async () => {
  database = await freshDatabase('jobs_lease');
  // clean-history claims each tick before it runs; expire-consumers records only runs that did something.
  const options = { jobLeaseMs: LEASE_MS, jobsExpireConsumersEnabled: false, jobsCleanHistoryCron: '* * * * * *' };
  a = await startTestJobs(database.url, options);
  b = await startTestJobs(database.url, options);
  sql = await sqlClient(database.name);
});
after(async () => {
  await a?.stop();
  await b?.stop();
  await sql?.end();
  await database?.drop();
});

describe('job leases', () => {
  test('one holder at a time: a second instance gets the lease only after it is released', async () => {
    const held = await acquireLease(a.ctx, 'lease-one');
    assert.ok(held);
    assert.equal(await acquireLease(b.ctx, 'lease-one'), undefined);
    await held.release();
    const taken = await acquireLease(b.ctx, 'lease-one');
    assert.ok(taken, 'free once released');
    assert.equal((await findLease(a.ctx.db, 'lease-one'))?.holder, b.ctx.holder);
    await taken.release();
  });

  test('a dead holder\'s lease is taken over only once it expires', async () => {
    assert.ok(await insertLeaseIfAbsent(a.ctx.db, 'lease-dead', 'dead-host:1:000000', LEASE_MS));
    assert.equal(await acquireLease(b.ctx, 'lease-dead'), undefined, 'still held');
    const taken = await waitFor('the lease to expire and be taken over', () => acquireLease(b.ctx, 'lease-dead'), LEASE_MS * 3, 20);
    await taken.release();
  });

  test('a running job keeps its lease by renewing it, and stops when another instance took it over', async () => {
    const held = await acquireLease(a.ctx, 'lease-long');
    assert.ok(held);
    // Held across two of its own expiries: each renewal pushed expires_at on.
    const firstExpiry = (await findLease(a.ctx.db, 'lease-long'))!.expiresAt.getTime();
    await waitFor('two renewals', async () => (await findLease(a.ctx.db, 'lease-long'))!.expiresAt.getTime() >= firstExpiry + 2 * LEASE_MS * 0.9, LEASE_MS * 5, 20);
    assert.equal(held.signal.aborted, false);
    assert.equal(await acquireLease(b.ctx, 'lease-long'), undefined, 'renewed past its first expiry');
    await sql.rows("UPDATE job_lease SET holder = 'intruder' WHERE job = 'lease-long'");
    await waitFor('the run to be told', async () => held.signal.aborted, LEASE_MS);
    assert.ok(held.signal.reason instanceof LeaseLostError);
    await held.release();
    assert.equal((await findLease(a.ctx.db, 'lease-long'))?.holder, 'intruder', 'a lost lease is not released by its old holder');
  });
});

describe('one run per tick across instances', () => {
  test('a tick that a second instance processes after the first one finished is not run again', async () => {
    const job = JOBS['clean-history'];
    const slot = new Date('2030-01-01T00:00:05.000Z');
    const first = await runJob(a.ctx, job, { kind: 'schedule', slot });
    assert.equal(first.kind, 'finished');
    const late = await runJob(b.ctx, job, { kind: 'schedule', slot });
    assert.equal(late.kind, 'already-ran');
    const next = await runJob(b.ctx, job, { kind: 'schedule', slot: new Date('2030-01-01T00:00:06.000Z') });
    assert.equal(next.kind, 'finished', 'the next tick runs, on whichever instance gets there');
    assert.equal(await sql.count('job_run', 'scheduled_for = ?', [slot]), 1);
  });

  test('a job that writes only runs that did something claims its tick on its lease: a late second instance does not run it again', async () => {
    const job = JOBS['expire-consumers'];
    const slot = new Date('2020-01-01T00:01:05.000Z');
    const first = await runJob(a.ctx, job, { kind: 'schedule', slot });
    assert.ok(first.kind === 'finished' && first.runId === null, 'did nothing: counted, not written');
    assert.equal((await runJob(b.ctx, job, { kind: 'schedule', slot })).kind, 'already-ran');
    assert.equal((await runJob(b.ctx, job, { kind: 'schedule', slot: new Date('2020-01-01T00:01:04.000Z') })).kind, 'already-ran', 'an older tick too');
    const next = await runJob(b.ctx, job, { kind: 'schedule', slot: new Date('2020-01-01T00:01:06.000Z') });
    assert.equal(next.kind, 'finished', 'the next tick runs, on whichever instance gets there');
    assert.equal((await findLease(a.ctx.db, 'expire-consumers'))?.idleRuns, 2);
  });

  test('a run left "running" by a holder that lost its lease is marked failed by the next holder', async () => {
    await sql.rows(
      "INSERT INTO job_run (job, holder, started_at, status, triggered_by) VALUES ('expire-consumers', 'dead-host:1:000000', NOW(3) - INTERVAL 1 MINUTE, 'running', 'schedule')",
    );
    const outcome = await runJob(b.ctx, JOBS['expire-consumers'], { kind: 'manual' });
    assert.equal(outcome.kind, 'finished');
    const [row] = await sql.rows<{ status: string; detail: string; finished_at: Date | null }>(
      "SELECT status, detail, finished_at FROM job_run WHERE holder = 'dead-host:1:000000'",
    );
    assert.equal(row?.status, 'failed');
    assert.ok(row?.finished_at);
    assert.match(row.detail, /abandoned/);
  });

  test('two instances scheduled together run each tick exactly once', async () => {
    await sql.rows("DELETE FROM job_run WHERE job = 'clean-history'");
    a.scheduler.start();
    b.scheduler.start();
    await waitFor('four scheduled ticks', async () => {
      const [row] = await sql.rows<{ ticks: number }>("SELECT COUNT(DISTINCT scheduled_for) AS ticks FROM job_run WHERE job = 'clean-history' AND triggered_by = 'schedule' AND status <> 'running'");
      return Number(row?.ticks) >= 4;
    }, 15_000, 50);
    await Promise.all([a.scheduler.stop(), b.scheduler.stop()]);
    const ticks = await sql.rows<{ scheduled_for: Date; runs: number; holders: number }>(
      "SELECT scheduled_for, COUNT(*) AS runs, COUNT(DISTINCT holder) AS holders FROM job_run WHERE job = 'clean-history' AND triggered_by = 'schedule' GROUP BY scheduled_for",
    );
    assert.ok(ticks.length >= 3, `${ticks.length} ticks ran`);
    assert.deepEqual(ticks.filter((t) => Number(t.runs) !== 1), [], 'no tick ran twice');
    assert.equal(await sql.count('job_run', "job = 'clean-history' AND status <> 'succeeded'"), 0);
  });
});
