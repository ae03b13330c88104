import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../shared/config';
import { checkJobSchedules } from '../portal-jobs/schedule-config';

describe('portal-jobs configuration', () => {
  test('defaults: cleanup hourly, expiry every 10 s, both enabled, valid cron', () => {
    const c = loadConfig({});
    assert.equal(c.jobsCleanHistoryCron, '0 * * * *');
    assert.equal(c.jobsExpireConsumersCron, '*/10 * * * * *');
    assert.equal(c.jobsCleanHistoryEnabled, true);
    assert.equal(c.jobsExpireConsumersEnabled, true);
    assert.ok(c.jobLeaseMs > 0 && c.cleanupBatchSize > 0);
    checkJobSchedules(c);
  });

  test('flags, schedules and cleanup settings come from TABLEMQ_* variables', () => {
    const c = loadConfig({
      TABLEMQ_JOBS_CLEAN_HISTORY_ENABLED: 'false',
      TABLEMQ_JOBS_EXPIRE_CONSUMERS_ENABLED: 'TRUE',
      TABLEMQ_JOBS_CLEAN_HISTORY_CRON: '30 3 * * *',
      TABLEMQ_CLEANUP_BATCH_SIZE: '500',
      TABLEMQ_CLEANUP_PAUSE_MS: '0',
      TABLEMQ_JOB_LEASE_MS: '5000',
    });
    assert.equal(c.jobsCleanHistoryEnabled, false);
    assert.equal(c.jobsExpireConsumersEnabled, true);
    assert.equal(c.jobsCleanHistoryCron, '30 3 * * *');
    assert.equal(c.cleanupBatchSize, 500);
    assert.equal(c.cleanupPauseMs, 0);
    assert.equal(c.jobLeaseMs, 5000);
    checkJobSchedules(c);
  });

  for (const [key, value] of [
    ['TABLEMQ_JOBS_CLEAN_HISTORY_ENABLED', 'yes'],
    ['TABLEMQ_JOBS_EXPIRE_CONSUMERS_ENABLED', '1'],
    ['TABLEMQ_CLEANUP_BATCH_SIZE', '0'],
    ['TABLEMQ_JOB_LEASE_MS', '10'],
    ['TABLEMQ_JOBS_CLEAN_HISTORY_CRON', ''],
  ] as const) {
    test(`${key}=${JSON.stringify(value)} is rejected naming the key`, () => {
      assert.throws(() => loadConfig({ [key]: value }), (err: Error) => err instanceof ConfigError && err.message.includes(key));
    });
  }

  for (const [key, value] of [
    ['TABLEMQ_JOBS_CLEAN_HISTORY_CRON', '0 * * *'],
    ['TABLEMQ_JOBS_CLEAN_HISTORY_CRON', '61 * * * *'],
    ['TABLEMQ_JOBS_EXPIRE_CONSUMERS_CRON', 'every 10 seconds'],
  ] as const) {
    test(`cron ${key}=${JSON.stringify(value)} is rejected at start naming the key`, () => {
      const config = loadConfig({ [key]: value });
      assert.throws(() => checkJobSchedules(config), (err: Error) => err instanceof ConfigError && err.message.includes(key));
    });
  }
});
