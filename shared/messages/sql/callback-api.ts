import type { Pool } from 'mysql2/promise';

/**
 * Hot statements use the callback API under mysql2's promise wrapper: the wrapper builds an Error
 * per query to keep a stack, which showed up in profiles of the produce and pull paths.
 */

type Callback = (err: Error | null, result: unknown) => void;

/** The callback API of a mysql2 connection or pool, which both run queries and prepared statements. */
export interface RawRunner {
  query(sql: string, cb: Callback): void;
  execute(sql: string, values: unknown[], cb: Callback): void;
}

/** A pooled connection taken for a transaction. */
export interface RawConnection extends RawRunner {
  release(): void;
  destroy(): void;
}

/** The callback API under a pool's promise wrapper. */
export function rawPool(pool: Pool): RawRunner {
  return pool.pool as unknown as RawRunner;
}

/** Takes a connection of the pool, for statements that must share a session (a transaction). */
export function rawConnection(pool: Pool): Promise<RawConnection> {
  return new Promise<RawConnection>((resolve, reject) =>
    pool.pool.getConnection((err: Error | null, c: unknown) => (err ? reject(err) : resolve(c as RawConnection))),
  );
}

/** Runs one text statement (or several, separated by `;`) on a pool or a connection. */
export function rawQuery<T>(runner: RawRunner, sql: string): Promise<T> {
  return new Promise<T>((resolve, reject) => runner.query(sql, (err, result) => (err ? reject(err) : resolve(result as T))));
}

/** Rows as arrays rather than one object per row. */
export function rawArrayQuery<Row extends unknown[]>(pool: Pool, sql: string): Promise<Row[]> {
  return new Promise<Row[]>((resolve, reject) => {
    pool.pool.query({ sql, rowsAsArray: true }, (err: Error | null, rows: unknown) => (err ? reject(err) : resolve(rows as Row[])));
  });
}
