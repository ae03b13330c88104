import mysql from 'mysql2/promise';
import { BrokerError } from '../errors';
import type { Logger } from '../logger';
import { connectionOptions, type DbTarget } from '../db/connection-options';
import { BASE_SESSION_SQL, setUpSession } from '../db/session';
import type { SecretBox } from '../secrets/secret-box';

/** How to reach one message DB node (a DbNode is one); its password as stored, opened with the pools' SecretBox. */
export type NodeTarget = DbTarget & { id: number };

export interface NodeConnection {
  pool: mysql.Pool;
  /** @@auto_increment_increment: ids of one queue advance by this step (Galera sets it > 1). */
  idStep: number;
  isMariaDb: boolean;
}

interface NodePoolOptions {
  poolSize: number;
  /** Upper bound on any statement's run time on a message node; see docs/architecture.md, "The in-flight gap". */
  statementTimeoutMs: number;
  logger: Logger;
  /** Opens the stored passwords of the targets. */
  secrets: SecretBox;
}

/** Per pooled connection; see the pool options below. */
const PREPARED_STATEMENTS_PER_CONNECTION = 64;

/** Connects once to a node and reports what it is; used before a node is saved and when a pool opens. */
export async function probeNode(target: DbTarget): Promise<{ version: string; idStep: number; isMariaDb: boolean }> {
  const conn = await mysql.createConnection(connectionOptions(target));
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version, @@auto_increment_increment AS step');
    const row = (rows as { version: string; step: number }[])[0];
    if (!row) throw new Error('node did not answer SELECT VERSION()');
    return { version: row.version, idStep: Number(row.step), isMariaDb: /mariadb/i.test(row.version) };
  } finally {
    await conn.end();
  }
}

/** The statements that set up every session of a message node's pool (see session.ts). */
export function nodeSessionSql(statementTimeoutMs: number, isMariaDb: boolean): string[] {
  const settings = [
    BASE_SESSION_SQL,
    // A locking read of a hole waits for in-flight inserts, never for a stuck transaction.
    `innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(statementTimeoutMs / 1000))}`,
  ];
  // Bounds how long an INSERT (and so an unfilled id hole) can live. MySQL has no equivalent for
  // INSERT; there the grace period alone, plus the locking read, covers the gap.
  if (isMariaDb) settings.push(`max_statement_time = ${statementTimeoutMs / 1000}`);
  return [
    settings.join(', '),
    // Locking reads of id holes must not take gap locks, or they would block producers.
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  ];
}

/**
 * A mysql2 pool whose every new connection runs `sessionSql` before anything else. The pool hands
 * a new connection to the query that asked for it right after its 'connection' event, so the
 * set-up is queued first; a connection whose set-up failed is destroyed (which fails whatever
 * was queued behind it) and leaves the pool, so no statement runs in a session that is not ours.
 */
export function createSessionPool(options: mysql.PoolOptions, sessionSql: readonly string[], onSetupError: (err: Error) => void): mysql.Pool {
  const pool = mysql.createPool(options);
  pool.pool.on('connection', (conn) => {
    setUpSession(conn, sessionSql, (err) => {
      if (!err) return;
      onSetupError(err);
      conn.destroy();
    });
  });
  return pool;
}

/** One mysql2 pool per message DB node, opened on first use and shared by produce and pull. */
export class NodePools {
  private readonly pools = new Map<number, Promise<NodeConnection>>();
  private closed = false;

  constructor(private readonly options: NodePoolOptions) {}

  get(target: NodeTarget): Promise<NodeConnection> {
    // A read or write still running at shutdown must not open a pool that nothing would close.
    if (this.closed) return Promise.reject(new BrokerError('SHUTTING_DOWN', 'the broker is shutting down', undefined, { retryAfterSeconds: 1 }));
    let entry = this.pools.get(target.id);
    if (!entry) {
      entry = this.open(target);
      this.pools.set(target.id, entry);
      // A node that was down at first use must be retried later, not remembered as failed.
      entry.catch(() => this.pools.delete(target.id));
    }
    return entry;
  }

  private async open(stored: NodeTarget): Promise<NodeConnection> {
    const target = { ...stored, password: this.options.secrets.open(stored.password) };
    const probe = await probeNode(target);
    const pool = createSessionPool(
      {
        ...connectionOptions(target),
        connectionLimit: this.options.poolSize,
        maxIdle: this.options.poolSize,
        enableKeepAlive: true,
        // The produce path sends several INSERTs and their COMMIT as one round trip
        // (group-commit/write-transaction.ts). Every literal comes from sql-literal.ts and every
        // table name from quotedTable.
        multipleStatements: true,
        // Prepared INSERTs (group-commit/insert-plan.ts) are cached per connection; the least
        // recently used is closed on the server beyond this, which bounds what one pool holds of
        // the server's max_prepared_stmt_count (16,382 by default, shared by all clients).
        maxPreparedStatements: PREPARED_STATEMENTS_PER_CONNECTION,
      },
      nodeSessionSql(this.options.statementTimeoutMs, probe.isMariaDb),
      (err) => this.options.logger.error('message node session setup failed; connection dropped', { node: target.id, err: err.message }),
    );
    this.options.logger.info('opened message node pool', { node: target.id, host: target.host, version: probe.version });
    return { pool, idStep: probe.idStep, isMariaDb: probe.isMariaDb };
  }

  /** The pools opened so far, by node id (for the pool gauges). */
  async openPools(): Promise<{ nodeId: number; pool: mysql.Pool }[]> {
    const entries = await Promise.all([...this.pools].map(async ([nodeId, entry]) => ({ nodeId, conn: await entry.catch(() => undefined) })));
    return entries.flatMap((e) => (e.conn ? [{ nodeId: e.nodeId, pool: e.conn.pool }] : []));
  }

  async closeAll(): Promise<void> {
    this.closed = true;
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
