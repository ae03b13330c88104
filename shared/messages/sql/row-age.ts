import type { Pool, RowDataPacket } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/** Milliseconds since the row was written, by the node's own clock (the pull judges id holes by it). */
export async function rowAgeMs(pool: Pool, table: string, id: number): Promise<number | null> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT TIMESTAMPDIFF(MICROSECOND, created_at, NOW(3)) DIV 1000 AS age FROM ${quotedTable(table)} WHERE id = ?`,
    [id],
  );
  const age = rows[0]?.age;
  return age === undefined || age === null ? null : Number(age);
}
