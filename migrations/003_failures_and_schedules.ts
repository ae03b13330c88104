import type { Knex } from 'knex';

/**
 * Failure handling and delayed delivery (docs/architecture.md, "Delivery semantics"):
 * - scheduled_message: messages waiting for their due time (producer delays, retries, and moves to
 *   a dead topic), moved into their target topic by the brokers' scheduler;
 * - failed_message: one row per (group, queue, message) a consumer reported failed, so reporting
 *   the same failure twice schedules one retry;
 * - subscription.backoff_ms: the retry delay schedule of a subscription (JSON array of ms).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('scheduled_message', (t) => {
    t.bigIncrements('id').primary();
    t.integer('topic_id').unsigned().notNullable().references('topic.id');
    t.datetime('due_at', { precision: 3 }).notNullable();
    t.string('tag', 64).nullable();
    t.string('msg_key', 128).nullable();
    t.string('trace_id', 64).nullable();
    t.text('headers').nullable();
    t.specificType('body', 'MEDIUMBLOB').notNullable();
    t.integer('retry_count').notNullable().defaultTo(0);
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    // The scheduler reads due rows in due order; a late one never waits behind a later one.
    t.index(['due_at', 'id']);
  });

  await knex.schema.createTable('failed_message', (t) => {
    t.bigIncrements('id').primary();
    t.integer('consumer_group_id').unsigned().notNullable().references('consumer_group.id');
    t.integer('queue_id').unsigned().notNullable().references('queue.id');
    t.bigInteger('message_id').unsigned().notNullable();
    t.integer('retry_count').notNullable();
    t.enu('outcome', ['retry', 'dead']).notNullable();
    t.string('reason', 1000).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['consumer_group_id', 'queue_id', 'message_id']);
  });

  await knex.schema.alterTable('subscription', (t) => {
    t.text('backoff_ms').nullable(); // JSON array; NULL = the default schedule
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscription', (t) => {
    t.dropColumn('backoff_ms');
  });
  await knex.schema.dropTableIfExists('failed_message');
  await knex.schema.dropTableIfExists('scheduled_message');
}
