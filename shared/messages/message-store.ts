import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { planInserts } from './insert-plan';
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
   * The JSON text of the message body. In a text INSERT a string is sent as an escaped literal, a
   * Buffer as hex, which doubles the bytes on the wire: the produce path passes strings. A prepared
   * INSERT sends either as it is.
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

/** created_at as ISO 8601 UTC with milliseconds, formatted by the server (sessions run in UTC). */
const CREATED_AT_ISO = "CONCAT(LEFT(DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')";

/** The columns every message read selects (the benchmark's raw baseline reads the same). */
export const MESSAGE_COLUMNS = `id, tag, msg_key, trace_id, headers, body, retry_count, ${CREATED_AT_ISO} AS created_at`;

/**
 * A message as the API shows it (pull answers, GET of one message), as JSON text built by the
 * server: {"topic","queueId","id","body","key","tag","traceId","headers","retryCount","createdAt"}.
 * Body and headers are stored as JSON text (a body as the client sent it, after JSON.parse accepted
 * it; headers made by JSON.stringify), so they are spliced in as they are; the free-text columns
 * go through JSON_QUOTE. The broker then only concatenates rows: per
 * message it parses two short columns and one Buffer instead of eight columns, and builds nothing
 * (measured here: half the broker CPU per pulled message, the same MariaDB CPU).
 */
function messageJsonExpression(topic: string, queueId: number): string {
  const head = `{"topic":${JSON.stringify(topic)},"queueId":${Math.trunc(queueId)},"id":`;
  return (
    `CONCAT(${sqlString(head)}, id, ',"body":', body, ` +
    `',"key":', IFNULL(JSON_QUOTE(msg_key), 'null'), ',"tag":', IFNULL(JSON_QUOTE(tag), 'null'), ` +
    `',"traceId":', IFNULL(JSON_QUOTE(trace_id), 'null'), ',"headers":', IFNULL(headers, 'null'), ` +
    `',"retryCount":', retry_count, ',"createdAt":"', ${CREATED_AT_ISO}, '"}')`
  );
}

/**
 * A SQL string literal of text tablemq made itself from validated names (topic names match a strict
 * pattern): refusing quotes and backslashes makes it safe whatever the server's sql_mode.
 */
function sqlString(text: string): string {
  if (/['\\]/.test(text)) throw new Error(`refusing to quote ${JSON.stringify(text)} into SQL`);
  return `'${text}'`;
}

/** One message of a queue as a pull hands it out: the id and tag the broker needs, and its API JSON. */
export interface MessageJsonRow {
  id: number;
  tag: string | null;
  json: Buffer;
}

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
 * Hot statements use the callback API under mysql2's promise wrapper: the wrapper builds an Error
 * per query to keep a stack, which showed up in profiles of the produce and pull paths.
 */
function rawArrayQuery<Row extends unknown[]>(pool: Pool, sql: string): Promise<Row[]> {
  return new Promise<Row[]>((resolve, reject) => {
    pool.pool.query({ sql, rowsAsArray: true }, (err: Error | null, rows: unknown) => (err ? reject(err) : resolve(rows as Row[])));
  });
}

export async function createQueueTable(pool: Pool, ddl: string): Promise<void> {
  await pool.query(ddl);
}

/** Rows for one queue table, written as one multi-row INSERT. */
export interface TableBatch {
  table: string;
  messages: readonly NewMessage[];
}

const INSERT_COLUMNS = '(tag, msg_key, trace_id, headers, body, retry_count)';

/** About what a row weighs in a statement and in memory (the broker's budget and batch bounds use it too). */
export function rowBytes(m: NewMessage): number {
  return m.body.length + (m.headers?.length ?? 0) + 64;
}

/** A multi-row INSERT with the values as literals. InnoDB gives a simple multi-row INSERT consecutive ids. */
function textInsert(pool: Pool, table: string, messages: readonly NewMessage[], noBackslashEscapes: boolean): string {
  const values = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    // _binary: the body column is a BLOB, so the server need not check or convert the literal's
    // charset (MariaDB spent ~5% less CPU per 1 KB row this way on this machine).
    const body = typeof m.body === 'string' ? `_binary${jsonTextLiteral(m.body, noBackslashEscapes)}` : pool.escape(m.body);
    values[i] = `(${pool.escape(m.tag)},${pool.escape(m.key)},${pool.escape(m.traceId)},${pool.escape(m.headers)},${body},${m.retryCount | 0})`;
  }
  return `INSERT INTO ${quotedTable(table)} ${INSERT_COLUMNS} VALUES ${values.join(',')}`;
}

/** The same INSERT with placeholders, and its values in order. Its text depends only on the table and the row count. */
function preparedInsert(table: string, messages: readonly NewMessage[]): { sql: string; values: unknown[] } {
  const values = new Array<unknown>(messages.length * 6);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    values[i * 6] = m.tag;
    values[i * 6 + 1] = m.key;
    values[i * 6 + 2] = m.traceId;
    values[i * 6 + 3] = m.headers;
    values[i * 6 + 4] = m.body;
    values[i * 6 + 5] = m.retryCount | 0;
  }
  return { sql: `INSERT INTO ${quotedTable(table)} ${INSERT_COLUMNS} VALUES ${'(?,?,?,?,?,?),'.repeat(messages.length).slice(0, -1)}`, values };
}

type Callback = (err: Error | null, result: unknown) => void;
/** The callback API of a mysql2 connection or pool, which both run queries and prepared statements. */
interface RawRunner {
  query(sql: string, cb: Callback): void;
  execute(sql: string, values: unknown[], cb: Callback): void;
}
interface RawConnection extends RawRunner {
  release(): void;
  destroy(): void;
}

function onConnection<T>(conn: RawRunner, sql: string): Promise<T> {
  return new Promise<T>((resolve, reject) => conn.query(sql, (err, result) => (err ? reject(err) : resolve(result as T))));
}

/** One statement of a write, ready to run. */
interface Statement {
  batch: number;
  count: number;
  text: () => string;
  prepared?: { sql: string; values: unknown[] };
}

/**
 * Runs a prepared INSERT. When the server holds as many prepared statements as it allows
 * (max_prepared_stmt_count, shared by every client), the same rows go as text instead.
 */
function runPrepared(runner: RawRunner, statement: Statement): Promise<ResultSetHeader> {
  const { sql, values } = statement.prepared!;
  return new Promise<ResultSetHeader>((resolve, reject) =>
    runner.execute(sql, values, (err, result) => {
      if (!err) resolve(result as ResultSetHeader);
      else if ((err as { code?: string }).code === 'ER_MAX_PREPARED_STMT_COUNT_REACHED') onConnection<ResultSetHeader>(runner, statement.text()).then(resolve, reject);
      else reject(err);
    }),
  );
}

/** What a write did: the id of every row, per batch, and how many INSERT statements it took. */
export interface InsertResult {
  ids: number[][];
  statements: number;
}

/**
 * Writes batches for several queue tables of one node as ONE transaction: one commit (one fsync)
 * for all of them. Small groups of rows are text INSERTs sent together with START TRANSACTION
 * (and, when there is nothing else, the COMMIT) in one round trip of at most `maxTripBytes`
 * (a multi-statement query); large groups are prepared INSERTs of ladder-sized row counts (see
 * insert-plan.ts), a round trip each. A write of one statement is a plain autocommit statement.
 * All or nothing: on any error the transaction is rolled back, or the connection dropped if it
 * can't be, so no pooled connection is ever left inside a transaction. Ids within one statement
 * are consecutive, at steps of `idStep` (the node's @@auto_increment_increment).
 */
export async function insertBatches(
  pool: Pool,
  batches: readonly TableBatch[],
  options: { noBackslashEscapes: boolean; maxTripBytes: number; idStep: number },
): Promise<InsertResult> {
  const plan = planInserts(
    batches.map((b) => b.messages.length),
    batches.map((b) => b.messages.reduce((n, m) => n + rowBytes(m), 0)),
  );
  const statements: Statement[] = plan.map((p) => {
    const { table } = batches[p.batch]!;
    const rows = batches[p.batch]!.messages.slice(p.from, p.from + p.count);
    return {
      batch: p.batch,
      count: p.count,
      text: () => textInsert(pool, table, rows, options.noBackslashEscapes),
      prepared: p.prepared ? preparedInsert(table, rows) : undefined,
    };
  });

  let results: ResultSetHeader[];
  const raw = pool.pool as unknown as RawRunner; // the callback API under the promise wrapper, which builds an Error per query
  if (statements.length === 1) {
    const only = statements[0]!;
    results = [only.prepared ? await runPrepared(raw, only) : await onConnection<ResultSetHeader>(raw, only.text())];
  } else {
    results = await inTransaction(pool, statements, options.maxTripBytes);
  }

  const ids = batches.map((): number[] => []);
  statements.forEach((s, k) => {
    const result = results[k]!;
    if (result.affectedRows !== s.count) throw new Error(`inserted ${result.affectedRows} rows of ${s.count} into ${batches[s.batch]!.table}`);
    const first = Number(result.insertId);
    const out = ids[s.batch]!;
    for (let i = 0; i < s.count; i++) out.push(first + i * options.idStep);
  });
  return { ids, statements: statements.length };
}

/** Results in the order of `statements`. */
async function inTransaction(pool: Pool, statements: readonly Statement[], maxTripBytes: number): Promise<ResultSetHeader[]> {
  // Text statements first, in round trips of whole statements of at most maxTripBytes each
  // (unless one statement alone is more); the first trip opens the transaction.
  const texts = statements.flatMap((s, k) => (s.prepared ? [] : [{ k, sql: s.text() }]));
  const prepared = statements.flatMap((s, k) => (s.prepared ? [k] : []));
  const trips: { k: number[]; sql: string[] }[] = [{ k: [], sql: ['START TRANSACTION'] }];
  let size = 0;
  for (const t of texts) {
    if (size > 0 && size + t.sql.length > maxTripBytes) {
      trips.push({ k: [], sql: [] });
      size = 0;
    }
    const trip = trips[trips.length - 1]!;
    trip.k.push(t.k);
    trip.sql.push(t.sql);
    size += t.sql.length;
  }
  if (prepared.length === 0) trips[trips.length - 1]!.sql.push('COMMIT');

  const conn = await new Promise<RawConnection>((resolve, reject) =>
    pool.pool.getConnection((err: Error | null, c: unknown) => (err ? reject(err) : resolve(c as RawConnection))),
  );
  const results = new Array<ResultSetHeader>(statements.length);
  try {
    for (const trip of trips) {
      const answer = await onConnection<ResultSetHeader | ResultSetHeader[]>(conn, trip.sql.join(';'));
      const answers = trip.sql.length > 1 ? (answer as ResultSetHeader[]) : [answer as ResultSetHeader];
      // A trip's answers: START TRANSACTION (first trip only), its INSERTs, COMMIT (last trip only).
      const skip = trip === trips[0] ? 1 : 0;
      trip.k.forEach((k, i) => (results[k] = answers[skip + i]!));
    }
    for (const k of prepared) results[k] = await runPrepared(conn, statements[k]!);
    if (prepared.length > 0) await onConnection(conn, 'COMMIT');
  } catch (err) {
    try {
      await onConnection(conn, 'ROLLBACK');
      conn.release();
    } catch {
      conn.destroy();
    }
    throw err;
  }
  conn.release();
  return results;
}

/**
 * A range of one queue to read: ids after `afterId`, at most `limit` rows.
 */
export interface QueueRange {
  table: string;
  topic: string;
  queueId: number;
  afterId: number;
  limit: number;
}

/**
 * Committed messages after each range's `afterId`, in id order, as API JSON (see
 * messageJsonExpression): one result list per range. A consistent read: it never waits. All
 * ranges go in ONE statement (a UNION ALL of per-queue range reads), since every statement costs a
 * round trip and socket writes on both sides; rows come back as arrays, not one object per row.
 */
export async function readMessagesJson(pool: Pool, ranges: readonly QueueRange[]): Promise<MessageJsonRow[][]> {
  const out = ranges.map((): MessageJsonRow[] => []);
  const parts = ranges.flatMap((r, i) =>
    r.limit > 0
      ? [`(SELECT ${i}, id, tag, ${messageJsonExpression(r.topic, r.queueId)} FROM ${quotedTable(r.table)} WHERE id > ${Math.trunc(r.afterId)} ORDER BY id LIMIT ${Math.trunc(r.limit)})`]
      : [],
  );
  if (parts.length === 0) return out;
  const rows = await rawArrayQuery<[number, number | string, string | null, Buffer]>(pool, parts.join(' UNION ALL '));
  for (const r of rows) out[r[0]]!.push({ id: Number(r[1]), tag: r[2], json: r[3] });
  // A UNION ALL keeps each branch's ORDER BY in practice, but SQL does not promise it.
  for (const list of out) {
    if (list.some((m, i) => i > 0 && m.id < list[i - 1]!.id)) list.sort((a, b) => a.id - b.id);
  }
  return out;
}

/** One message as API JSON, or null. */
export async function getMessageJson(pool: Pool, table: string, id: number, topic: string, queueId: number): Promise<Buffer | null> {
  const rows = await rawArrayQuery<[Buffer]>(pool, `SELECT ${messageJsonExpression(topic, queueId)} FROM ${quotedTable(table)} WHERE id = ${Math.trunc(id)}`);
  return rows[0]?.[0] ?? null;
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
