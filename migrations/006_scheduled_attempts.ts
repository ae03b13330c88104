import type { Knex } from 'knex';

/**
 * A scheduled message that can't be delivered when due (its topic has no writable queue, its
 * queue's node is down) is put off with a backoff instead of blocking every other due message:
 * `attempts` counts the failed deliveries (it sets the next delay), `last_error` says why.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('scheduled_message', (t) => {
    t.integer('attempts').unsigned().notNullable().defaultTo(0);
    t.string('last_error', 500).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('scheduled_message', (t) => {
    t.dropColumn('last_error');
    t.dropColumn('attempts');
  });
}
