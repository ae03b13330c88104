import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

export const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

/** A fresh, uniquely named database for one test file; dropped by `drop()`. */
export async function freshDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `tmq_t_${label.replace(/\W/g, '_').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const conn = await mysql.createConnection(MYSQL);
  await conn.query(`CREATE DATABASE \`${name}\``);
  await conn.end();
  return {
    name,
    url: `mysql://${MYSQL.user}@${MYSQL.host}:${MYSQL.port}/${name}`,
    async drop() {
      const c = await mysql.createConnection(MYSQL);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** A plain connection to a test database, for assertions that look at the rows themselves. */
export async function sqlClient(database: string) {
  const conn = await mysql.createConnection({ ...MYSQL, database, timezone: 'Z', supportBigNumbers: true });
  return {
    conn,
    async rows<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [rows] = await conn.query(sql, params);
      return rows as T[];
    },
    async count(table: string, where = '1=1', params: unknown[] = []): Promise<number> {
      const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`, params);
      return Number((rows as { n: number }[])[0]?.n ?? 0);
    },
    async tables(): Promise<string[]> {
      const [rows] = await conn.query('SHOW TABLES');
      return (rows as Record<string, string>[]).map((r) => Object.values(r)[0]!);
    },
    end: () => conn.end(),
  };
}
