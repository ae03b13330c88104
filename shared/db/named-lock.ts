import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * A lock name for one purpose in one metadata database. GET_LOCK names are server-wide, so the
 * name carries the database: processes of one deployment queue up, those of other databases on
 * the same server (other deployments, test runs) go alongside. Hashed: a lock name holds at most
 * 64 characters.
 */
export function databaseLockName(purpose: string, database: string): string {
  return `tablemq_${purpose}_${createHash('sha256').update(database).digest('hex').slice(0, 40)}`;
}

/**
 * Runs `fn` while holding a server-wide named lock (GET_LOCK), so processes that start together
 * do a one-time set-up one after another and the later ones find it done. The lock belongs to
 * one pooled connection, held until `fn` settles; `fn` may use any connection.
 */
export async function withNamedLock<T>(db: Knex, name: string, timeoutSeconds: number, fn: () => Promise<T>): Promise<T> {
  const conn = await db.client.acquireConnection();
  try {
    const [rows] = (await db.raw('SELECT GET_LOCK(?, ?) AS got', [name, timeoutSeconds]).connection(conn)) as [{ got: number | null }[]];
    if (rows[0]?.got !== 1) throw new Error(`timed out waiting ${timeoutSeconds} s for the lock ${name} held by another process`);
    try {
      return await fn();
    } finally {
      await db.raw('SELECT RELEASE_LOCK(?)', [name]).connection(conn);
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}
