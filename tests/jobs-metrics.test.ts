import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PortalJobs } from '../portal-jobs/app';
import { insertLeaseIfAbsent } from '../shared/metadata/jobs';
import { apiClient } from './helpers/broker';
import { freshDatabase } from './helpers/db';
import { childEnv, spawnTs, startTestJobs } from './helpers/jobs';
import { waitFor } from './helpers/wait';
import { sampleSum, scrape } from './helpers/metrics';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let jobs: PortalJobs;
let api: ReturnType<typeof apiClient>;
before(async () => {
  database = await freshDatabase('jobs_metrics');
  jobs = await startTestJobs(database.url);
  api = apiClient(`http://127.0.0.1:${await jobs.startHttp()}`);
});
after(async () => {
  await jobs?.stop();
  await database?.drop();
});

describe('portal-jobs /metrics and /healthz', () => {
  test('healthz answers with the instance name; every job is listed with its lease not held', async () => {
    const health = await api.get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok', holder: jobs.ctx.holder });
    const text = await scrape(api);
    assert.match(text, /^tablemq_job_lease_held\{job="clean-history"\} 0$/m);
    assert.match(text, /^tablemq_job_lease_held\{job="expire-consumers"\} 0$/m);
    assert.equal((await api.get('/nope')).status, 404);
  });

  test('runs are counted by outcome with their durations, and a lease held elsewhere counts as lease_held', async () => {
    const outcome = await jobs.runOnce('expire-consumers');
    assert.equal(outcome.kind, 'finished');
    let text = await scrape(api);
    assert.equal(sampleSum(text, 'tablemq_job_runs_total', { job: 'expire-consumers', outcome: 'succeeded' }), 1);
    assert.equal(sampleSum(text, 'tablemq_job_run_duration_seconds_count', { job: 'expire-consumers', status: 'succeeded' }), 1);
    assert.ok(sampleSum(text, 'tablemq_job_last_success_timestamp_seconds', { job: 'expire-consumers' }) > Date.now() / 1000 - 60);
    assert.equal(sampleSum(text, 'tablemq_job_lease_held', { job: 'expire-consumers' }), 0, 'released after the run');

    assert.ok(await insertLeaseIfAbsent(jobs.ctx.db, 'clean-history', 'other-host:1:abcdef', 60_000));
    assert.equal((await jobs.runOnce('clean-history')).kind, 'lease-held');
    text = await scrape(api);
    assert.equal(sampleSum(text, 'tablemq_job_runs_total', { job: 'clean-history', outcome: 'lease_held' }), 1);
  });

  test('the portal-jobs process serves /healthz on TABLEMQ_JOBS_PORT', async () => {
    const child = spawnTs('portal-jobs/main.ts', [], childEnv({ TABLEMQ_MYSQL_URL: database.url, TABLEMQ_HOST: '127.0.0.1', TABLEMQ_JOBS_EXPIRE_CONSUMERS_ENABLED: 'false', TABLEMQ_JOBS_CLEAN_HISTORY_ENABLED: 'false' }));
    try {
      const port = await waitFor('the listening log line', async () => {
        const line = child.stdout().split('\n').find((l) => l.includes('/healthz listening'));
        return line === undefined ? undefined : (JSON.parse(line) as { port: number }).port;
      }, 60_000); // a process start under tsx takes seconds on a busy machine
      const health = await apiClient(`http://127.0.0.1:${port}`).get('/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'ok');
    } finally {
      child.process.kill('SIGTERM');
      assert.equal(await child.exited, 0);
    }
  });
});
