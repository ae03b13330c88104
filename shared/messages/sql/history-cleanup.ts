import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/** The statements of portal-jobs' clean-history: find and delete rows past their retention, in bounded batches. */

/** The retention cutoff by the node's own clock: process clocks never decide what is old. */
export async function cutoffHoursAgo(pool: Pool, hours: number): Promise<Date> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT NOW(3) - INTERVAL ? HOUR AS cutoff', [hours]);
  const cutoff = rows[0]?.cutoff as Date | undefined;
  if (!(cutoff instanceof Date)) throw new Error('the node did not answer NOW(3)');
  return cutoff;
}

/**
 * The highest id among the `scan` oldest rows created before `cutoff`; 0 when there is none.
 * Walks idx_created_at in order and stops after `scan` entries, so it stays bounded however much
 * history is due; the caller deletes up to this id, then asks again.
 */
export async function maxIdAmongOldest(pool: Pool, table: string, cutoff: Date, scan: number): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT MAX(id) AS hi FROM (SELECT id FROM ${quotedTable(table)} FORCE INDEX (idx_created_at) ` +
      'WHERE created_at < ? ORDER BY created_at LIMIT ?) AS oldest',
    [cutoff, scan],
  );
  return Number(rows[0]?.hi ?? 0);
}

/**
 * The next ids (ascending, at most `limit`) created before `cutoff` in (afterId, upToId]. Forced
 * onto the primary key: a range scan from afterId that stops after `limit` matches, instead of
 * reading every old row of idx_created_at and sorting them for each batch.
 */
export async function idsOlderThan(pool: Pool, table: string, afterId: number, upToId: number, cutoff: Date, limit: number): Promise<number[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT id FROM ${quotedTable(table)} FORCE INDEX (PRIMARY) WHERE id > ? AND id <= ? AND created_at < ? ORDER BY id LIMIT ?`,
    [afterId, upToId, cutoff, limit],
  );
  return rows.map((r) => Number(r.id));
}

/**
 * Deletes the rows created before `cutoff` with ids in [fromId, toId] (one batch found by
 * idsOlderThan). The id range bounds the statement; the created_at test spares a newer row whose
 * id happens to lie inside it. Under READ COMMITTED it locks only the rows it deletes.
 */
export async function deleteOlderThanInRange(pool: Pool, table: string, fromId: number, toId: number, cutoff: Date): Promise<number> {
  const [result] = await pool.query<ResultSetHeader>(`DELETE FROM ${quotedTable(table)} WHERE id BETWEEN ? AND ? AND created_at < ?`, [fromId, toId, cutoff]);
  return result.affectedRows;
}
