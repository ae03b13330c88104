import type { Knex } from 'knex';

/**
 * Apps, their tokens and grants (docs/security.md), and a format mark on db node passwords:
 * - app: a principal (a service or a person) that authenticates with any of its tokens;
 * - app_token: the SHA-256 of each token (the token itself is shown once and never stored);
 * - app_grant: what an app may do: `admin`, or `produce`/`consume` on a topic/group name or
 *   wildcard (`*`, `orders.*`); `resource` is '' for admin;
 * - db_node.password: every value now starts with its format, `plain:` or `aes-256-gcm:`, so
 *   rows written before encryption existed keep working and are never mistaken for cipher text.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('app', (t) => {
    t.increments('id').primary();
    t.string('name', 120).notNullable().unique();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
  });

  await knex.schema.createTable('app_token', (t) => {
    t.increments('id').primary();
    t.integer('app_id').unsigned().notNullable().references('app.id').onDelete('CASCADE');
    t.binary('token_hash', 32).notNullable().unique();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
  });

  await knex.schema.createTable('app_grant', (t) => {
    t.increments('id').primary();
    t.integer('app_id').unsigned().notNullable().references('app.id').onDelete('CASCADE');
    t.enu('permission', ['admin', 'produce', 'consume']).notNullable();
    t.string('resource', 121).notNullable().defaultTo('');
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['app_id', 'permission', 'resource']);
  });

  await knex.schema.alterTable('db_node', (t) => {
    t.string('password', 2048).notNullable().defaultTo('plain:').alter(); // room for the sealed form of a 255-character password
  });
  await knex('db_node').update({ password: knex.raw("CONCAT('plain:', password)") });
}

export async function down(knex: Knex): Promise<void> {
  await knex('db_node')
    .where('password', 'like', 'plain:%')
    .update({ password: knex.raw('SUBSTRING(password, 7)') });
  await knex.schema.dropTableIfExists('app_grant');
  await knex.schema.dropTableIfExists('app_token');
  await knex.schema.dropTableIfExists('app');
}
