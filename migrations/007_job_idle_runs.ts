import type { Knex } from 'knex';

/**
 * A scheduled run of a frequent job that found nothing to do (expire-consumers every 10 s) is
 * counted on the job's lease row instead of adding a job_run row: `idle_runs` and when the last
 * one ended.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_lease', (t) => {
    t.bigInteger('idle_runs').unsigned().notNullable().defaultTo(0);
    t.datetime('last_idle_run_at', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_lease', (t) => {
    t.dropColumn('last_idle_run_at');
    t.dropColumn('idle_runs');
  });
}
