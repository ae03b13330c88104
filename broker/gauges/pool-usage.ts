import type { Pool } from 'mysql2/promise';
import type { MetadataDb } from '../../shared/db/metadata-db';

export interface PoolUsage {
  size: number;
  inUse: number;
  idle: number;
  waiting: number;
}

/**
 * mysql2 keeps its counts in fields it does not type (they have been stable for years); read
 * them defensively, a missing one counts as 0.
 */
interface Mysql2PoolInternals {
  config?: { connectionLimit?: number };
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

export function nodePoolUsage(pool: Pool): PoolUsage {
  const inner = pool.pool as unknown as Mysql2PoolInternals;
  const all = inner._allConnections?.length ?? 0;
  const idle = inner._freeConnections?.length ?? 0;
  return { size: inner.config?.connectionLimit ?? 0, inUse: all - idle, idle, waiting: inner._connectionQueue?.length ?? 0 };
}

/** knex's pool is tarn.js, whose counters are public; knex types its client as `any`. */
interface TarnPool {
  max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

export function metadataPoolUsage(db: MetadataDb): PoolUsage {
  const pool = (db.client as { pool?: TarnPool }).pool;
  if (!pool) return { size: 0, inUse: 0, idle: 0, waiting: 0 };
  return { size: pool.max, inUse: pool.numUsed(), idle: pool.numFree(), waiting: pool.numPendingAcquires() };
}
