import type { Pool, RowDataPacket } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/**
 * Ids strictly between two bounds, read with a shared lock: under READ COMMITTED this takes no gap
 * locks but waits for any insert into the range that has not committed yet, so an empty answer
 * means the ids are really missing (rolled back or deleted), not merely in flight.
 */
export async function lockingReadBetween(pool: Pool, table: string, afterId: number, beforeId: number): Promise<number[]> {
  const conn = await pool.getConnection();
  try {
    await conn.query('START TRANSACTION');
    try {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT id FROM ${quotedTable(table)} WHERE id > ? AND id < ? ORDER BY id LOCK IN SHARE MODE`,
        [afterId, beforeId],
      );
      return rows.map((r) => Number(r.id));
    } finally {
      await conn.query('COMMIT');
    }
  } finally {
    conn.release();
  }
}
