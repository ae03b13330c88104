import { formatSql } from './sql-literal';

/** How to reach a MySQL database: the metadata DB and every message node are reached alike. */
export interface DbTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** mysql2 connection settings every tablemq connection uses (metadata DB and message nodes alike). */
export function connectionOptions(target: DbTarget) {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    // Dates travel as UTC; sessions also run SET time_zone = '+00:00' so NOW() agrees.
    timezone: 'Z',
    supportBigNumbers: true,
    charset: 'utf8mb4',
    connectTimeout: 5_000,
    // Every `?` becomes a literal made by sql-literal.ts, whatever the server's sql_mode.
    queryFormat: formatSql,
  } as const;
}
