import type { Knex } from 'knex';

/**
 * portal-jobs bookkeeping (docs/architecture.md, "Processes").
 * - job_run.scheduled_for: the cron tick a scheduled run belongs to (NULL for a run started by
 *   hand). Unique per job, so a tick that two instances both saw runs once even if the second one
 *   gets the lease only after the first has finished and released it.
 * - job_run.triggered_by: 'schedule' or 'manual', for operators reading the history.
 * - job_lease.acquired_at: when the current holder took the lease (admin visibility).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_run', (t) => {
    t.datetime('scheduled_for', { precision: 3 }).nullable();
    t.enu('triggered_by', ['schedule', 'manual']).notNullable().defaultTo('manual');
    t.unique(['job', 'scheduled_for'], { indexName: 'job_run_job_scheduled_for_unique' });
    t.index(['status'], 'job_run_status_index');
  });
  await knex.schema.alterTable('job_lease', (t) => {
    t.datetime('acquired_at', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_lease', (t) => {
    t.dropColumn('acquired_at');
  });
  await knex.schema.alterTable('job_run', (t) => {
    t.dropIndex(['status'], 'job_run_status_index');
    t.dropUnique(['job', 'scheduled_for'], 'job_run_job_scheduled_for_unique');
    t.dropColumn('triggered_by');
    t.dropColumn('scheduled_for');
  });
}
