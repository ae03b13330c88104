/**
 * The benchmark's own view of MariaDB: its throwaway database, the server facts that explain the
 * numbers (version, fsync policy, buffer pool), and GLOBAL STATUS counters read around scenarios.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { sleep } from './peers/common';

// Loopback only, by design.
export const MYSQL_TARGET = { host: '127.0.0.1', port: 3306, user: 'root', password: '' } as const;

export type AdminConnection = mysql.Connection;

export function adminConnection(): Promise<AdminConnection> {
  return mysql.createConnection({ ...MYSQL_TARGET, connectTimeout: 10_000 });
}

export function benchDatabaseName(): string {
  return `tablemq_bench_${randomBytes(4).toString('hex')}`;
}

export function mysqlUrl(database: string): string {
  return `mysql://${MYSQL_TARGET.user}@${MYSQL_TARGET.host}:${MYSQL_TARGET.port}/${database}`;
}

export async function createDatabase(admin: AdminConnection, name: string): Promise<void> {
  await admin.query(`CREATE DATABASE \`${name}\``);
}

export async function dropDatabase(admin: AdminConnection, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
}

/** Server settings that decide what a commit costs and what stays in memory. */
const FACT_VARIABLES = [
  'version',
  'innodb_flush_log_at_trx_commit',
  'sync_binlog',
  'log_bin',
  'innodb_buffer_pool_size',
  'innodb_log_file_size',
  'innodb_flush_method',
  'innodb_doublewrite',
  'innodb_io_capacity',
  'max_connections',
] as const;

export async function serverFacts(admin: AdminConnection): Promise<Record<string, string>> {
  const [rows] = await admin.query(
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${FACT_VARIABLES.map(() => '?').join(',')})`,
    [...FACT_VARIABLES],
  );
  const facts: Record<string, string> = {};
  for (const row of rows as { Variable_name: string; Value: string }[]) facts[row.Variable_name] = row.Value;
  return facts;
}

const STATUS_VARIABLES = [
  'Com_insert',
  'Com_select',
  'Com_update',
  'Com_commit',
  'Innodb_data_fsyncs',
  'Innodb_buffer_pool_reads',
  'Innodb_buffer_pool_pages_dirty',
  'Innodb_buffer_pool_pages_total',
] as const;
export type StatusName = (typeof STATUS_VARIABLES)[number];
export type Status = Record<StatusName, number>;

export async function readStatus(admin: AdminConnection): Promise<Status> {
  const [rows] = await admin.query(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_VARIABLES.map(() => '?').join(',')})`,
    [...STATUS_VARIABLES],
  );
  const byName = new Map((rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, Number(r.Value)]));
  const status = {} as Status; // filled for every name just below
  for (const name of STATUS_VARIABLES) status[name] = byName.get(name) ?? 0;
  return status;
}

export function dirtyPct(status: Status): number {
  return status.Innodb_buffer_pool_pages_total > 0
    ? (100 * status.Innodb_buffer_pool_pages_dirty) / status.Innodb_buffer_pool_pages_total
    : 0;
}

/**
 * Gives InnoDB up to `maxMs` to flush dirty pages left by the previous scenario (below 10% of the
 * pool), so a scenario pays less for its predecessor's writes. Bounded: with innodb_io_capacity=200
 * a full flush of the pool can take half a minute, so the dirty share at start is recorded instead.
 */
export async function settle(admin: AdminConnection, maxMs: number): Promise<Status> {
  const deadline = Date.now() + maxMs;
  let status = await readStatus(admin);
  while (dirtyPct(status) > 10 && Date.now() < deadline) {
    await sleep(200);
    status = await readStatus(admin);
  }
  return status;
}

/**
 * Reads every row of the given tables once, so a read scenario starts with them in the buffer pool
 * (as far as they fit): each drain then starts from the same cache state, whichever runs first.
 */
export async function warmTables(admin: AdminConnection, database: string, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    await admin.query(`SELECT COUNT(*), SUM(LENGTH(body)) FROM \`${database}\`.\`${table}\``);
  }
}
