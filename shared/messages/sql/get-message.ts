import type { Pool } from 'mysql2/promise';
import type { StoredMessage } from '../message';
import { quotedTable } from '../queue-table';
import { MESSAGE_COLUMNS, toStored, type MessageRow } from './message-json';

/** One message by id, or null (fail and the admin API read messages one by one). */
export async function getMessage(pool: Pool, table: string, id: number): Promise<StoredMessage | null> {
  const [rows] = await pool.query<MessageRow[]>(`SELECT ${MESSAGE_COLUMNS} FROM ${quotedTable(table)} WHERE id = ?`, [id]);
  const row = rows[0];
  return row ? toStored(row) : null;
}
