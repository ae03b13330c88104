import type { ResultSetHeader } from 'mysql2/promise';
import { sqlLiteral, stringLiteral } from '../../db/sql-literal';
import { MESSAGE_COLUMN_NAMES, messageValues, type NewMessage } from '../message';
import { quotedTable } from '../queue-table';
import { rawQuery, type RawRunner } from './callback-api';

/**
 * The multi-row INSERT of messages into a queue table, as text or prepared (see
 * broker/produce/group-commit/insert-plan.ts for which). InnoDB gives a simple multi-row INSERT
 * consecutive ids, at steps of the node's @@auto_increment_increment.
 */

const INSERT_COLUMNS = `(${MESSAGE_COLUMN_NAMES.join(', ')})`;
const COLUMN_COUNT = MESSAGE_COLUMN_NAMES.length;
const ROW_PLACEHOLDERS = `(${MESSAGE_COLUMN_NAMES.map(() => '?').join(',')}),`;

/** The INSERT with the values as literals. */
export function textInsert(table: string, messages: readonly NewMessage[]): string {
  const values = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const [tag, key, traceId, headers, body, retryCount] = messageValues(messages[i]!);
    const bodyLiteral = typeof body === 'string' ? stringLiteral(body, true) : sqlLiteral(body);
    values[i] = `(${sqlLiteral(tag)},${sqlLiteral(key)},${sqlLiteral(traceId)},${sqlLiteral(headers)},${bodyLiteral},${retryCount})`;
  }
  return `INSERT INTO ${quotedTable(table)} ${INSERT_COLUMNS} VALUES ${values.join(',')}`;
}

/** The same INSERT with placeholders, and its values in order. Its text depends only on the table and the row count. */
export function preparedInsert(table: string, messages: readonly NewMessage[]): { sql: string; values: unknown[] } {
  const values = new Array<unknown>(messages.length * COLUMN_COUNT);
  for (let i = 0; i < messages.length; i++) {
    const row = messageValues(messages[i]!);
    for (let c = 0; c < COLUMN_COUNT; c++) values[i * COLUMN_COUNT + c] = row[c];
  }
  return { sql: `INSERT INTO ${quotedTable(table)} ${INSERT_COLUMNS} VALUES ${ROW_PLACEHOLDERS.repeat(messages.length).slice(0, -1)}`, values };
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
