import type { Knex } from 'knex';

/** The metadata schema (docs/architecture.md, "Stores"). Append-only: later changes go in new migrations. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('db_node', (t) => {
    t.increments('id').primary();
    t.string('name', 120).notNullable().unique();
    t.string('host', 255).notNullable();
    t.integer('port').unsigned().notNullable();
    t.string('database_name', 64).notNullable();
    t.string('user', 128).notNullable();
    t.string('password', 255).notNullable().defaultTo('');
    t.boolean('read_only').notNullable().defaultTo(false);
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
  });

  await knex.schema.createTable('topic', (t) => {
    t.increments('id').primary();
    t.string('name', 120).notNullable().unique();
    t.enu('kind', ['normal', 'retry', 'dead']).notNullable().defaultTo('normal');
    t.integer('retention_hours').unsigned().notNullable();
    t.integer('max_message_bytes').unsigned().notNullable();
    t.string('owner', 120).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
  });

  await knex.schema.createTable('queue', (t) => {
    t.increments('id').primary();
    t.integer('db_node_id').unsigned().notNullable().references('db_node.id');
    // NULL until the table exists on its node: a crash between the two steps leaves no half queue.
    t.string('table_name', 64).nullable();
    t.integer('topic_id').unsigned().nullable().references('topic.id');
    t.boolean('readable').notNullable().defaultTo(true);
    t.boolean('writable').notNullable().defaultTo(true);
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['db_node_id', 'table_name']);
    t.index(['topic_id']);
  });

  await knex.schema.createTable('consumer_group', (t) => {
    t.increments('id').primary();
    t.string('name', 120).notNullable().unique();
    t.enu('mode', ['cluster', 'broadcast']).notNullable().defaultTo('cluster');
    t.boolean('paused').notNullable().defaultTo(false);
    t.integer('max_retries').unsigned().notNullable().defaultTo(16);
    t.bigInteger('generation').unsigned().notNullable().defaultTo(0);
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
  });

  await knex.schema.createTable('subscription', (t) => {
    t.increments('id').primary();
    t.integer('consumer_group_id').unsigned().notNullable().references('consumer_group.id');
    t.integer('topic_id').unsigned().notNullable().references('topic.id');
    t.enu('start_from', ['latest', 'earliest']).notNullable().defaultTo('latest');
    t.text('tags').nullable(); // JSON array of tag strings; NULL = every message
    t.integer('max_retries').unsigned().nullable();
    t.integer('retry_topic_id').unsigned().nullable().references('topic.id');
    t.integer('dead_topic_id').unsigned().nullable().references('topic.id');
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['consumer_group_id', 'topic_id']);
  });

  await knex.schema.createTable('consumer', (t) => {
    t.bigIncrements('id').primary();
    t.integer('consumer_group_id').unsigned().notNullable().references('consumer_group.id');
    t.string('name', 200).notNullable();
    t.string('host', 255).nullable();
    t.datetime('heartbeat_at', { precision: 3 }).notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['consumer_group_id', 'name']);
    t.index(['heartbeat_at']);
  });

  await knex.schema.createTable('queue_offset', (t) => {
    t.bigIncrements('id').primary();
    t.integer('consumer_group_id').unsigned().notNullable().references('consumer_group.id');
    t.integer('queue_id').unsigned().notNullable().references('queue.id');
    t.integer('topic_id').unsigned().notNullable().references('topic.id');
    t.bigInteger('consumer_id').unsigned().nullable();
    t.bigInteger('committed_offset').unsigned().notNullable().defaultTo(0);
    // The group generation in which this row's owner or offset last changed by force
    // (rebalance or reset); commits that name an older generation are fenced off.
    t.bigInteger('generation').unsigned().notNullable().defaultTo(0);
    t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['consumer_group_id', 'queue_id']);
    t.index(['consumer_id']);
    t.index(['queue_id']);
  });

  await knex.schema.createTable('job_lease', (t) => {
    t.string('job', 64).primary();
    t.string('holder', 200).notNullable();
    t.datetime('expires_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('job_run', (t) => {
    t.bigIncrements('id').primary();
    t.string('job', 64).notNullable();
    t.string('holder', 200).notNullable();
    t.datetime('started_at', { precision: 3 }).notNullable();
    t.datetime('finished_at', { precision: 3 }).nullable();
    t.enu('status', ['running', 'succeeded', 'failed']).notNullable();
    t.text('detail').nullable(); // JSON: counts, error
    t.index(['job', 'started_at']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.string('actor', 200).notNullable();
    t.string('action', 64).notNullable();
    t.string('target', 255).notNullable();
    t.text('detail').nullable(); // JSON
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'audit_log',
    'job_run',
    'job_lease',
    'queue_offset',
    'consumer',
    'subscription',
    'consumer_group',
    'queue',
    'topic',
    'db_node',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
