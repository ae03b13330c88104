import mysql from 'mysql2/promise';
import type { Logger } from '../logger';
import { connectionOptions } from '../db/connection-options';

/** How to reach one message DB node. */
export interface NodeTarget {
  id: number;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export interface NodeConnection {
  pool: mysql.Pool;
  /** @@auto_increment_increment: ids of one queue advance by this step (Galera sets it > 1). */
  idStep: number;
  isMariaDb: boolean;
  /** sql_mode has NO_BACKSLASH_ESCAPES: string literals then take backslashes as they are. */
  noBackslashEscapes: boolean;
}

interface NodePoolOptions {
  poolSize: number;
  /** Upper bound on any statement's run time on a message node; see DESIGN.md section 3. */
  statementTimeoutMs: number;
  logger: Logger;
}


/** Connects once to a node and reports what it is; used before a node is saved and when a pool opens. */
/** Per pooled connection; see the pool options below. */
const PREPARED_STATEMENTS_PER_CONNECTION = 64;

export async function probeNode(target: Omit<NodeTarget, 'id'>): Promise<{ version: string; idStep: number; isMariaDb: boolean; noBackslashEscapes: boolean }> {
  const conn = await mysql.createConnection(connectionOptions(target));
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version, @@auto_increment_increment AS step, @@sql_mode AS sqlMode');
    const row = (rows as { version: string; step: number; sqlMode: string }[])[0];
    if (!row) throw new Error('node did not answer SELECT VERSION()');
    return {
      version: row.version,
      idStep: Number(row.step),
      isMariaDb: /mariadb/i.test(row.version),
      noBackslashEscapes: /NO_BACKSLASH_ESCAPES/i.test(row.sqlMode),
    };
  } finally {
    await conn.end();
  }
}

/**
 * mysql2 scans every statement for `?` placeholders, even one sent without values; the produce
 * path sends whole multi-row INSERTs (100s of KB) already escaped, so those skip the scan here.
 */
function formatQuery(sql: string, values: unknown): string {
  if (values === undefined || (Array.isArray(values) && values.length === 0)) return sql;
  return mysql.format(sql, values as Parameters<typeof mysql.format>[1], false, 'Z');
}

/** One mysql2 pool per message DB node, opened on first use and shared by produce and pull. */
export class NodePools {
  private readonly pools = new Map<number, Promise<NodeConnection>>();

  constructor(private readonly options: NodePoolOptions) {}

  get(target: NodeTarget): Promise<NodeConnection> {
    let entry = this.pools.get(target.id);
    if (!entry) {
      entry = this.open(target);
      this.pools.set(target.id, entry);
      // A node that was down at first use must be retried later, not remembered as failed.
      entry.catch(() => this.pools.delete(target.id));
    }
    return entry;
  }

  private async open(target: NodeTarget): Promise<NodeConnection> {
    const probe = await probeNode(target);
    const pool = mysql.createPool({
      ...connectionOptions(target),
      connectionLimit: this.options.poolSize,
      maxIdle: this.options.poolSize,
      enableKeepAlive: true,
      queryFormat: formatQuery,
      // The produce path sends several INSERTs and their COMMIT as one round trip
      // (message-store.ts insertBatches). Every statement tablemq builds escapes its values and
      // takes table names only from quotedTable.
      multipleStatements: true,
      // Prepared INSERTs (insert-plan.ts) are cached per connection; the least recently used is
      // closed on the server beyond this, which bounds what one pool holds of the server's
      // max_prepared_stmt_count (16,382 by default, shared by all clients).
      maxPreparedStatements: PREPARED_STATEMENTS_PER_CONNECTION,
    });
    const sessionSql = [
      "SET time_zone = '+00:00'",
      // Locking reads of id holes must not take gap locks, or they would block producers.
      'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
      // A locking read of a hole waits for in-flight inserts, never for a stuck transaction.
      `SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(this.options.statementTimeoutMs / 1000))}`,
    ];
    if (probe.isMariaDb) {
      // Bounds how long an INSERT (and so an unfilled id hole) can live. MySQL has no equivalent
      // for INSERT; there the grace period alone, plus the locking read, covers the gap.
      sessionSql.push(`SET SESSION max_statement_time = ${this.options.statementTimeoutMs / 1000}`);
    }
    pool.pool.on('connection', (conn) => {
      for (const sql of sessionSql) {
        conn.query(sql, (err: Error | null) => {
          if (err) this.options.logger.error('message node session setup failed', { node: target.id, err: err.message });
        });
      }
    });
    this.options.logger.info('opened message node pool', { node: target.id, host: target.host, version: probe.version });
    return { pool, idStep: probe.idStep, isMariaDb: probe.isMariaDb, noBackslashEscapes: probe.noBackslashEscapes };
  }

  async closeAll(): Promise<void> {
    const entries = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      entries.map(async (entry) => {
        const conn = await entry.catch(() => undefined);
        await conn?.pool.end();
      }),
    );
  }
}
