import type { Knex } from 'knex';

/**
 * The admin lifecycle (delete, shrink, audit reads, alarms):
 * - queue.retiring_since: a shrink made the queue non-writable at this time; it leaves its topic
 *   once every subscribed group has read it to the end (or the shrink is forced);
 * - queue.released_at: the queue left its topic (topic deleted, shrink done) and waits to be
 *   emptied; it is no spare until portal-jobs has truncated it, so no stale write or old row can
 *   reach the next topic that claims it;
 * - queue.shrink_forced: the operator completes this shrink without waiting for the groups;
 * - subscription.max_lag: the lag above which portal-jobs raises an alert (NULL = never);
 * - alert: every alert raised or cleared, edge-triggered (the latest row per kind and target is
 *   the current state), with the webhook's answer;
 * - audit_log indexes for the filters of GET /api/v1/admin/audit-log (newest first by id).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('queue', (t) => {
    t.datetime('retiring_since', { precision: 3 }).nullable();
    t.boolean('shrink_forced').notNullable().defaultTo(false);
    t.datetime('released_at', { precision: 3 }).nullable();
    t.index(['released_at'], 'queue_released_at_index');
  });
  await knex.schema.alterTable('subscription', (t) => {
    t.bigInteger('max_lag').unsigned().nullable();
  });
  await knex.schema.createTable('alert', (t) => {
    t.bigIncrements('id').primary();
    t.enu('kind', ['lag', 'spare-queues']).notNullable();
    t.string('target', 255).notNullable();
    t.enu('state', ['firing', 'cleared']).notNullable();
    t.bigInteger('value').notNullable();
    t.bigInteger('threshold').notNullable();
    t.string('message', 1000).notNullable();
    // The webhook's answer: HTTP status, or NULL with delivery_error when it could not be reached.
    t.integer('delivery_status').nullable();
    t.string('delivery_error', 1000).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.index(['kind', 'target', 'id'], 'alert_kind_target_index');
  });
  await knex.schema.alterTable('audit_log', (t) => {
    t.index(['target', 'id'], 'audit_log_target_index');
    t.index(['actor', 'id'], 'audit_log_actor_index');
    t.index(['action', 'id'], 'audit_log_action_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.dropIndex(['action', 'id'], 'audit_log_action_index');
    t.dropIndex(['actor', 'id'], 'audit_log_actor_index');
    t.dropIndex(['target', 'id'], 'audit_log_target_index');
  });
  await knex.schema.dropTableIfExists('alert');
  await knex.schema.alterTable('subscription', (t) => {
    t.dropColumn('max_lag');
  });
  await knex.schema.alterTable('queue', (t) => {
    t.dropIndex(['released_at'], 'queue_released_at_index');
    t.dropColumn('released_at');
    t.dropColumn('shrink_forced');
    t.dropColumn('retiring_since');
  });
}
