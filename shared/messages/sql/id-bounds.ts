import type { Pool, RowDataPacket } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/** The ends of a queue's id range, by the primary key. */

/** MAX(id), not information_schema's cached AUTO_INCREMENT (it lags on MySQL 8). 0 when empty. */
export async function maxId(pool: Pool, table: string): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT MAX(id) AS max_id FROM ${quotedTable(table)}`);
  return Number(rows[0]?.max_id ?? 0);
}

/** MIN(id); null when the table is empty. */
export async function minId(pool: Pool, table: string): Promise<number | null> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT MIN(id) AS min_id FROM ${quotedTable(table)}`);
  const min = rows[0]?.min_id;
  return min === null || min === undefined ? null : Number(min);
}

/** The offset that makes a consumer start with the first message created at or after `at`. */
export async function offsetBeforeTime(pool: Pool, table: string, at: Date): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT MIN(id) AS first_id FROM ${quotedTable(table)} WHERE created_at >= ?`, [at]);
  const first = rows[0]?.first_id;
  if (first === null || first === undefined) return maxId(pool, table);
  return Number(first) - 1;
}
