/**
 * PostgreSQL plumbing shared by the pg-boss and PgQ peers: loopback connection settings,
 * a throwaway database per peer, and an honest reading of what a commit guarantees.
 */
import type { Client, ClientConfig } from 'pg';
import { importPackage, SETUP_TIMEOUT_MS } from './common';

type PgModule = typeof import('pg');

// Loopback only, by design: the benchmark must never touch another host.
export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
export const PG_USER = 'postgres';

export function pgConfig(database: string): ClientConfig {
  return { host: PG_HOST, port: PG_PORT, user: PG_USER, database, connectionTimeoutMillis: SETUP_TIMEOUT_MS };
}

/** `pg` is imported lazily so a missing package fails only the peers that need it. */
export async function loadPg(): Promise<PgModule> {
  const mod = await importPackage('pg', () => import('pg'));
  return mod.default;
}

export async function connect(pg: PgModule, database: string): Promise<Client> {
  const client = new pg.Client(pgConfig(database));
  // An idle client whose server goes away emits 'error'; without a listener that would crash the run.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Runs `fn` with a client on the `postgres` maintenance database (CREATE/DROP DATABASE can't run inside the target). */
async function withAdmin<T>(pg: PgModule, fn: (admin: Client) => Promise<T>): Promise<T> {
  const admin = await connect(pg, 'postgres');
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/**
 * Drops `name` if an earlier (possibly crashed) run left it, then creates it empty, so every run
 * starts from a fresh namespace. WITH (FORCE) kicks out sessions a crashed run may have leaked.
 */
export async function recreateDatabase(pg: PgModule, name: string): Promise<void> {
  await withAdmin(pg, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
}

export async function dropDatabase(pg: PgModule, name: string): Promise<void> {
  await withAdmin(pg, (admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

async function setting(client: Client, name: string): Promise<string> {
  const res = await client.query<{ setting: string }>('SELECT current_setting($1) AS setting', [name]);
  return res.rows[0]?.setting ?? '?';
}

/** What a committed row survives, read from the server's settings rather than assumed. */
export async function pgDurability(client: Client): Promise<string> {
  const syncCommit = await setting(client, 'synchronous_commit');
  const fsync = await setting(client, 'fsync');
  const tag = `synchronous_commit=${syncCommit}, fsync=${fsync}`;
  if (fsync !== 'on') return `PostgreSQL WAL never fsync'd (${tag}): an OS crash can lose or corrupt data`;
  if (syncCommit === 'off') {
    return `PostgreSQL WAL fsync'd in the background (${tag}): a crash loses the last few hundred ms of acked commits`;
  }
  return `PostgreSQL WAL fsync per commit (${tag}): acked messages survive a crash`;
}
