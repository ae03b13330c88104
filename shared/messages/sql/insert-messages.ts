import type { ResultSetHeader } from 'mysql2/promise';
import { sqlLiteral, stringLiteral } from '../../db/sql-literal';
import type { NewMessage } from '../message';
import { quotedTable } from '../queue-table';
import { rawQuery, type RawRunner } from './callback-api';

/**
 * The multi-row INSERT of messages into a queue table, as text or prepared (see
 * broker/produce/group-commit/insert-plan.ts for which). InnoDB gives a simple multi-row INSERT
 * consecutive ids, at steps of the node's @@auto_increment_increment.
 */

const INSERT_COLUMNS = '(tag, msg_key, trace_id, headers, body, retry_count)';
const COLUMN_COUNT = 6;

/** The INSERT with the values as literals. */
export function textInsert(table: string, messages: readonly NewMessage[]): string {
  const values = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const body = typeof m.body === 'string' ? stringLiteral(m.body, true) : sqlLiteral(m.body);
    values[i] = `(${sqlLiteral(m.tag)},${sqlLiteral(m.key)},${sqlLiteral(m.traceId)},${sqlLiteral(m.headers)},${body},${m.retryCount | 0})`;
  }
  return `INSERT INTO ${quotedTable(table)} ${INSERT_COLUMNS} VALUES ${values.join(',')}`;
}

/** The same INSERT with placeholders, and its values in order. Its text depends only on the table and the row count. */
export function preparedInsert(table: string, messages: readonly NewMessage[]): { sql: string; values: unknown[] } {
  const values = new Array<unknown>(messages.length * COLUMN_COUNT);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const at = i * COLUMN_COUNT;
    values[at] = m.tag;
    values[at + 1] = m.key;
    values[at + 2] = m.traceId;
    values[at + 3] = m.headers;
    values[at + 4] = m.body;
    values[at + 5] = m.retryCount | 0;
  }
  return { sql: `INSERT INTO ${quotedTable(table)} ${INSERT_COLUMNS} VALUES ${'(?,?,?,?,?,?),'.repeat(messages.length).slice(0, -1)}`, values };
}

/**
 * Runs a prepared INSERT. When the server holds as many prepared statements as it allows
 * (max_prepared_stmt_count, shared by every client), the same rows go as text (`text()`) instead.
 */
export function runPreparedInsert(runner: RawRunner, prepared: { sql: string; values: unknown[] }, text: () => string): Promise<ResultSetHeader> {
  return new Promise<ResultSetHeader>((resolve, reject) =>
    runner.execute(prepared.sql, prepared.values, (err, result) => {
      if (!err) resolve(result as ResultSetHeader);
      else if ((err as { code?: string }).code === 'ER_MAX_PREPARED_STMT_COUNT_REACHED') rawQuery<ResultSetHeader>(runner, text()).then(resolve, reject);
      else reject(err);
    }),
  );
}
