import type { Pool } from 'mysql2/promise';
import type { StoredMessage } from '../message';
import { quotedTable } from '../queue-table';
import { MESSAGE_COLUMNS, toStored, type MessageRow } from './message-json';

/** A page of messages after `afterId`, optionally narrowed by key or creation time (admin lookups). */
export async function findMessages(
  pool: Pool,
  table: string,
  filter: { afterId: number; limit: number; key?: string; from?: Date; to?: Date },
): Promise<StoredMessage[]> {
  const where = ['id > ?'];
  const params: unknown[] = [filter.afterId];
  if (filter.key !== undefined) {
    where.push('msg_key = ?');
    params.push(filter.key);
  }
  if (filter.from !== undefined) {
    where.push('created_at >= ?');
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    where.push('created_at < ?');
    params.push(filter.to);
  }
  params.push(filter.limit);
  const [rows] = await pool.query<MessageRow[]>(
    `SELECT ${MESSAGE_COLUMNS} FROM ${quotedTable(table)} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    params,
  );
  return rows.map(toStored);
}
