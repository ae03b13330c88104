/**
 * What every tablemq session runs before its first statement, on the metadata DB and on message
 * nodes alike. A connection whose set-up failed is dropped, never used (see metadata-db.ts and
 * node-pools.ts): a statement must not run in a session whose settings are the server's, not ours.
 */

/**
 * The session's sql_mode, whatever the server's global one: strict writes, and none of the modes
 * that change how a statement parses (NO_BACKSLASH_ESCAPES, ANSI_QUOTES, PIPES_AS_CONCAT). Every
 * name here exists on MariaDB and on MySQL 8.
 */
export const SESSION_SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** Sessions speak UTC, so DATETIME(3) values and NOW() mean the same on every broker. */
export const SESSION_TIME_ZONE = '+00:00';

/** The settings every session of ours starts with, as one statement. */
export const BASE_SESSION_SQL = `SET SESSION sql_mode = '${SESSION_SQL_MODE}', time_zone = '${SESSION_TIME_ZONE}'`;

/** A mysql2 connection's callback API, as a pool or knex hands it over. */
export interface CallbackConnection {
  query(sql: string, cb: (err: Error | null) => void): void;
}

/**
 * Sends every statement of `statements` at once, so that they run before anything queued on the
 * connection after this call (a pool runs the query that asked for a new connection right after
 * its 'connection' event); `done` gets the first error once the last one has answered.
 */
export function setUpSession(conn: CallbackConnection, statements: readonly string[], done: (err: Error | null) => void): void {
  let left = statements.length;
  let first: Error | null = null;
  if (left === 0) return done(null);
  for (const sql of statements) {
    conn.query(sql, (err) => {
      first ??= err;
      if (--left === 0) done(first);
    });
  }
}
