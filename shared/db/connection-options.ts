/** mysql2 connection settings every tablemq connection uses (metadata DB and message nodes alike). */
export function connectionOptions(target: { host: string; port: number; user: string; password: string; database: string }) {
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
  } as const;
}
