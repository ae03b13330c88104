import type { Knex } from 'knex';

/**
 * A scheduled run of a frequent job that found nothing to do (expire-consumers every 10 s) is
 * counted on the job's lease row instead of adding a job_run row: `idle_runs` and when the last
 * one ended. Such a job claims its cron tick there too (`last_slot`, the latest tick run), since
 * it has no job_run row up front whose unique (job, scheduled_for) would do it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_lease', (t) => {
    t.bigInteger('idle_runs').unsigned().notNullable().defaultTo(0);
    t.datetime('last_idle_run_at', { precision: 3 }).nullable();
    t.datetime('last_slot', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_lease', (t) => {
    t.dropColumn('last_slot');
    t.dropColumn('last_idle_run_at');
    t.dropColumn('idle_runs');
  });
}
