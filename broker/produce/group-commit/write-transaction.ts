import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { rowBytes, type NewMessage } from '../../../shared/messages/message';
import { rawConnection, rawPool, rawQuery, type RawConnection } from '../../../shared/messages/sql/callback-api';
import { preparedInsert, runPreparedInsert, textInsert } from '../../../shared/messages/sql/insert-messages';
import { planInserts } from './insert-plan';

/** Rows for one queue table, written as one multi-row INSERT. */
export interface TableBatch {
  table: string;
  messages: readonly NewMessage[];
}

/** What a write did: the id of every row, per batch, and how many INSERT statements it took. */
export interface InsertResult {
  ids: number[][];
  statements: number;
}

/** One statement of a write, ready to run. */
interface Statement {
  batch: number;
  count: number;
  text: () => string;
  prepared?: { sql: string; values: unknown[] };
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
export async function insertBatches(pool: Pool, batches: readonly TableBatch[], options: { maxTripBytes: number; idStep: number }): Promise<InsertResult> {
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
      text: () => textInsert(table, rows),
      prepared: p.prepared ? preparedInsert(table, rows) : undefined,
    };
  });

  let results: ResultSetHeader[];
  if (statements.length === 1) {
    const only = statements[0]!;
    const raw = rawPool(pool);
    results = [only.prepared ? await runPreparedInsert(raw, only.prepared, only.text) : await rawQuery<ResultSetHeader>(raw, only.text())];
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

  const conn: RawConnection = await rawConnection(pool);
  const results = new Array<ResultSetHeader>(statements.length);
  try {
    for (const trip of trips) {
      const answer = await rawQuery<ResultSetHeader | ResultSetHeader[]>(conn, trip.sql.join(';'));
      const answers = trip.sql.length > 1 ? (answer as ResultSetHeader[]) : [answer as ResultSetHeader];
      // A trip's answers: START TRANSACTION (first trip only), its INSERTs, COMMIT (last trip only).
      const skip = trip === trips[0] ? 1 : 0;
      trip.k.forEach((k, i) => (results[k] = answers[skip + i]!));
    }
    for (const k of prepared) {
      const s = statements[k]!;
      results[k] = await runPreparedInsert(conn, s.prepared!, s.text);
    }
    if (prepared.length > 0) await rawQuery(conn, 'COMMIT');
  } catch (err) {
    try {
      await rawQuery(conn, 'ROLLBACK');
      conn.release();
    } catch {
      conn.destroy();
    }
    throw err;
  }
  conn.release();
  return results;
}
