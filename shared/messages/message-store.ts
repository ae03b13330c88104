import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { quotedTable } from './queue-table';

/**
 * Every statement tablemq runs against a queue table. Pools come from NodePools, whose sessions
 * run READ COMMITTED in UTC. Values are always bound; the table name comes from quotedTable.
 */

export interface NewMessage {
  tag: string | null;
  key: string | null;
  traceId: string | null;
  headers: string | null; // JSON text
  /**
   * The JSON text of the message body. A string is sent as an escaped literal, a Buffer as hex,
   * which doubles the bytes on the wire: the produce path passes strings.
   */
  body: string | Buffer;
  retryCount: number;
}

export interface StoredMessage {
  id: number;
  tag: string | null;
  key: string | null;
  traceId: string | null;
  headers: string | null;
  body: Buffer;
  retryCount: number;
  /** ISO 8601, UTC, milliseconds: formatted by the server, so no Date is built per row. */
  createdAt: string;
}

interface MessageRow extends RowDataPacket {
  id: number;
  tag: string | null;
  msg_key: string | null;
  trace_id: string | null;
  headers: string | null;
  body: Buffer;
  retry_count: number;
  created_at: string;
}

/** The columns every message read selects (the benchmark's raw baseline reads the same). */
export const MESSAGE_COLUMNS =
  "id, tag, msg_key, trace_id, headers, body, retry_count, CONCAT(LEFT(DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z') AS created_at";

function toStored(row: MessageRow): StoredMessage {
  return {
    id: Number(row.id),
    tag: row.tag,
    key: row.msg_key,
    traceId: row.trace_id,
    headers: row.headers,
    body: row.body,
    retryCount: row.retry_count,
    createdAt: row.created_at,
  };
}

/**
 * A MySQL string literal of JSON text made by JSON.stringify. Such text has no raw control
 * characters (JSON escapes them), so only quotes and backslashes need care; most bodies have
 * neither and are sent as they are. This replaces mysql2's general escaper on the hottest path.
 */
export function jsonTextLiteral(json: string, noBackslashEscapes: boolean): string {
  const hasQuote = json.includes("'");
  const hasBackslash = !noBackslashEscapes && json.includes('\\');
  if (!hasQuote && !hasBackslash) return `'${json}'`;
  let text = hasBackslash ? json.replaceAll('\\', '\\\\') : json;
  if (hasQuote) text = text.replaceAll("'", "''");
  return `'${text}'`;
}

/**
 * The callback API under mysql2's promise wrapper: the wrapper builds an Error per query to keep
 * a stack, which showed up in profiles of the produce and pull paths.
 */
function rawQuery<T>(pool: Pool, sql: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    pool.pool.query(sql, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result as T)));
  });
}

export async function createQueueTable(pool: Pool, ddl: string): Promise<void> {
  await pool.query(ddl);
}

/**
 * One multi-row INSERT (one commit, one fsync) for a batch. Returns the first id; InnoDB gives a
 * simple multi-row INSERT consecutive ids (stepping by @@auto_increment_increment).
 */
export async function insertMessages(pool: Pool, table: string, messages: readonly NewMessage[], noBackslashEscapes = false): Promise<number> {
  const values = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const body = typeof m.body === 'string' ? jsonTextLiteral(m.body, noBackslashEscapes) : pool.escape(m.body);
    values[i] = `(${pool.escape(m.tag)},${pool.escape(m.key)},${pool.escape(m.traceId)},${pool.escape(m.headers)},${body},${m.retryCount | 0})`;
  }
  const sql = `INSERT INTO ${quotedTable(table)} (tag, msg_key, trace_id, headers, body, retry_count) VALUES ${values.join(',')}`;
  const result = await rawQuery<ResultSetHeader>(pool, sql);
  if (result.affectedRows !== messages.length) {
    throw new Error(`inserted ${result.affectedRows} rows of ${messages.length} into ${table}`);
  }
  return Number(result.insertId);
}

/** Committed messages after `afterId`, in id order (a consistent read: it never waits). */
export async function readAfter(pool: Pool, table: string, afterId: number, limit: number): Promise<StoredMessage[]> {
  const rows = await rawQuery<MessageRow[]>(
    pool,
    `SELECT ${MESSAGE_COLUMNS} FROM ${quotedTable(table)} WHERE id > ${Math.trunc(afterId)} ORDER BY id LIMIT ${Math.trunc(limit)}`,
  );
  return rows.map(toStored);
}

/** Milliseconds since the row was written, by the node's own clock. */
export async function rowAgeMs(pool: Pool, table: string, id: number): Promise<number | null> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT TIMESTAMPDIFF(MICROSECOND, created_at, NOW(3)) DIV 1000 AS age FROM ${quotedTable(table)} WHERE id = ?`,
    [id],
  );
  const age = rows[0]?.age;
  return age === undefined || age === null ? null : Number(age);
}

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

export async function getMessage(pool: Pool, table: string, id: number): Promise<StoredMessage | null> {
  const [rows] = await pool.query<MessageRow[]>(`SELECT ${MESSAGE_COLUMNS} FROM ${quotedTable(table)} WHERE id = ?`, [id]);
  const row = rows[0];
  return row ? toStored(row) : null;
}

/** MAX(id), not information_schema's cached AUTO_INCREMENT (it lags on MySQL 8). 0 when empty. */
export async function maxId(pool: Pool, table: string): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT MAX(id) AS max_id FROM ${quotedTable(table)}`);
  return Number(rows[0]?.max_id ?? 0);
}

/** The offset that makes a consumer start with the first message created at or after `at`. */
export async function offsetBeforeTime(pool: Pool, table: string, at: Date): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT MIN(id) AS first_id FROM ${quotedTable(table)} WHERE created_at >= ?`,
    [at],
  );
  const first = rows[0]?.first_id;
  if (first === null || first === undefined) return maxId(pool, table);
  return Number(first) - 1;
}

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

/** Deletes the given ids (dead-topic purge and resend); returns how many existed. */
export async function deleteMessages(pool: Pool, table: string, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [result] = await pool.query<ResultSetHeader>(`DELETE FROM ${quotedTable(table)} WHERE id IN (?)`, [ids]);
  return result.affectedRows;
}

// ---- history cleanup (portal-jobs clean-history) ----

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
  const [result] = await pool.query<ResultSetHeader>(
    `DELETE FROM ${quotedTable(table)} WHERE id BETWEEN ? AND ? AND created_at < ?`,
    [fromId, toId, cutoff],
  );
  return result.affectedRows;
}

/** MIN(id) by the primary key; null when the table is empty. */
export async function minId(pool: Pool, table: string): Promise<number | null> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT MIN(id) AS min_id FROM ${quotedTable(table)}`);
  const min = rows[0]?.min_id;
  return min === null || min === undefined ? null : Number(min);
}
