import type { Pool } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/** Drops a spare queue table (its node is being removed). */
export async function dropQueueTable(pool: Pool, tableName: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${quotedTable(tableName)}`);
}
