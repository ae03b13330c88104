import type { Knex } from 'knex';
import * as initial from './001_initial';
import * as portalJobs from './002_portal_jobs';
import * as failuresAndSchedules from './003_failures_and_schedules';
import * as exactNames from './004_exact_names';
import * as auth from './005_auth';
import * as scheduledAttempts from './006_scheduled_attempts';
import * as lifecycle from './006b_lifecycle';
import * as jobIdleRuns from './007_job_idle_runs';

/**
 * Migrations are listed here rather than discovered on disk, so the same list works under tsx
 * (tests) and from the compiled dist/ (npm start). Append new ones at the end; never edit one
 * that has landed.
 */
const MIGRATIONS: readonly [name: string, migration: Knex.Migration][] = [
  ['001_initial', initial],
  ['002_portal_jobs', portalJobs],
  ['003_failures_and_schedules', failuresAndSchedules],
  ['004_exact_names', exactNames],
  ['005_auth', auth],
  ['006_scheduled_attempts', scheduledAttempts],
  ['006b_lifecycle', lifecycle],
  ['007_job_idle_runs', jobIdleRuns],
];

export const migrationSource: Knex.MigrationSource<[string, Knex.Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
