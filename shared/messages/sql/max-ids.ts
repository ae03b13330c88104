import type { Pool } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/**
 * MAX(id) of several queue tables on one node in ONE statement (a UNION ALL of per-table MAX(id),
 * each answered from the primary key's end). 0 for an empty table. Answers in the order of `tables`.
 */
export async function maxIds(pool: Pool, tables: readonly string[]): Promise<number[]> {
  if (tables.length === 0) return [];
  const sql = tables.map((t, i) => `SELECT ${i} AS i, MAX(id) AS max_id FROM ${quotedTable(t)}`).join(' UNION ALL ');
  const [rows] = await pool.query(sql);
  const out = tables.map(() => 0);
  for (const r of rows as { i: number; max_id: number | string | null }[]) out[Number(r.i)] = Number(r.max_id ?? 0);
  return out;
}
