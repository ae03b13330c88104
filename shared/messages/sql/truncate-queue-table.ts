import type { Pool } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/**
 * Empties a queue table that left its topic, and restarts its ids at 1: the next topic that
 * claims it starts from an empty table, as with a fresh spare.
 */
export async function truncateQueueTable(pool: Pool, tableName: string): Promise<void> {
  await pool.query(`TRUNCATE TABLE ${quotedTable(tableName)}`);
}
