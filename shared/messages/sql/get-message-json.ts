import type { Pool } from 'mysql2/promise';
import { quotedTable } from '../queue-table';
import { rawArrayQuery } from './callback-api';
import { messageJsonExpression } from './message-json';

/** One message as API JSON, or null. */
export async function getMessageJson(pool: Pool, table: string, id: number, topic: string, queueId: number): Promise<Buffer | null> {
  const rows = await rawArrayQuery<[Buffer]>(pool, `SELECT ${messageJsonExpression(topic, queueId)} FROM ${quotedTable(table)} WHERE id = ${Math.trunc(id)}`);
  return rows[0]?.[0] ?? null;
}
