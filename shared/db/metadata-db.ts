import knexFactory, { type Knex } from 'knex';
import mysql from 'mysql2/promise';
import type { Logger } from '../logger';
import { connectionOptions, type DbTarget } from './connection-options';
import { BASE_SESSION_SQL, setUpSession, type CallbackConnection } from './session';
import { databaseLockName, withNamedLock } from './named-lock';
import { migrationSource } from '../../migrations';

export type MetadataDb = Knex;

export function createMetadataDb(target: DbTarget, poolSize: number, logger?: Logger): MetadataDb {
  return knexFactory({
    // knex would print its pool warnings with console.*; keep them in our structured log
    log: {
      warn: (msg: unknown) => logger?.warn('metadata db', { detail: String(msg) }),
      error: (msg: unknown) => logger?.error('metadata db', { detail: String(msg) }),
      deprecate: (msg: unknown) => logger?.warn('metadata db deprecation', { detail: String(msg) }),
      debug: (msg: unknown) => logger?.debug('metadata db', { detail: String(msg) }),
    },
    client: 'mysql2',
    connection: connectionOptions(target),
    pool: {
      min: 0,
      max: poolSize,
      // knex hands over mysql2's callback-style connection; an error here makes the pool drop it.
      afterCreate(conn: CallbackConnection, done: (err: Error | null, conn: unknown) => void) {
        setUpSession(conn, [BASE_SESSION_SQL], (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: 10_000,
  });
}

/** Creates the metadata database if it does not exist (the zero-config quick start needs this). */
export async function ensureDatabase(target: DbTarget): Promise<void> {
  const conn = await mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    connectTimeout: 5_000,
  });
  try {
    // The name was checked against DATABASE_NAME_PATTERN when the config was loaded.
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${target.database}\` CHARACTER SET utf8mb4`);
  } finally {
    await conn.end();
  }
}

/**
 * Runs the knex migrations under a named lock for this database: knex's own lock table makes a
 * second concurrent migrator fail rather than wait, and creating that table is itself a race, so
 * several brokers starting together queue up here and the later ones find nothing left to do.
 * `afterMigrate` runs under the same lock (seeding the default db node).
 */
export async function migrateLatest(db: MetadataDb, database: string, afterMigrate?: () => Promise<void>): Promise<void> {
  await withNamedLock(db, databaseLockName('migrate', database), 60, async () => {
    await db.migrate.latest({ migrationSource });
    await afterMigrate?.();
  });
}
