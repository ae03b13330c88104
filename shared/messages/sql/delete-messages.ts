import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/** Deletes the given ids (dead-topic purge and resend); returns how many existed. */
export async function deleteMessages(pool: Pool, table: string, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [result] = await pool.query<ResultSetHeader>(`DELETE FROM ${quotedTable(table)} WHERE id IN (?)`, [ids]);
  return result.affectedRows;
}
