import type { Knex } from 'knex';

/**
 * Names are exact: `ORDERS` and `orders` are two topics. The metadata database took the server's
 * default collation (case-insensitive on MariaDB and MySQL), so a lookup by name matched another
 * case while the broker's in-memory catalog did not. Every column holding a name a user chooses,
 * and looks things up by, gets binary collation; MODIFY keeps the unique keys on them.
 */
const NAME_COLUMNS: readonly { table: string; column: string; length: number }[] = [
  { table: 'db_node', column: 'name', length: 120 },
  { table: 'topic', column: 'name', length: 120 },
  { table: 'consumer_group', column: 'name', length: 120 },
  { table: 'consumer', column: 'name', length: 200 },
];

async function modify(knex: Knex, collation: 'utf8mb4_bin' | 'utf8mb4_general_ci'): Promise<void> {
  for (const { table, column, length } of NAME_COLUMNS) {
    // Identifiers come from the constant list above and are quoted by knex; the length is a number.
    await knex.raw(`ALTER TABLE ?? MODIFY ?? VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL`, [table, column]);
  }
}

export async function up(knex: Knex): Promise<void> {
  await modify(knex, 'utf8mb4_bin');
}

/** Back to the case-insensitive collation; fails if names now differ only in case (they'd collide). */
export async function down(knex: Knex): Promise<void> {
  await modify(knex, 'utf8mb4_general_ci');
}
