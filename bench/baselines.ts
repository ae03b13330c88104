/**
 * What MariaDB itself does with the same rows, with no broker in between: mysql2 straight from the
 * load generator, on a table created by the broker's own DDL (createQueueTableSql), with the same
 * statements a client reading and writing the tables itself would send (the broker's INSERT column list,
 * a plain range SELECT of the message columns).
 */
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { MESSAGE_COLUMNS } from '../shared/messages/sql/message-json';
import { createQueueTableSql } from '../shared/messages/sql/create-queue-table';
import { quotedTable } from '../shared/messages/queue-table';
import { MYSQL_TARGET } from './mariadb';
import { measure, perStatement } from './measure';
import { GRACE_MS, makeBody, maxMessagesPerScenario, warmPool, withTimeout } from './peers/common';
import { closedLoop } from './peers/load';
import type { ScenarioResult } from './results';
import { guarded, type ScenarioEnv } from './scenario';
import { summarize } from './stats';

const ROW_PLACEHOLDERS = '(?,?,?,?,?,?)';
/** Same columns and order as the INSERTs of shared/messages/sql/insert-messages.ts. */
const INSERT_PREFIX = '(tag, msg_key, trace_id, headers, body, retry_count) VALUES ';
/** The message columns, created_at formatted by the server as the broker's reads do. */
const SELECT_COLUMNS = MESSAGE_COLUMNS;
export const RANGE_LIMIT = 500;

/** A pool set up like the broker's NodePools (UTC, READ COMMITTED, big numbers), one connection per client. */
async function openPool(database: string, connections: number): Promise<mysql.Pool> {
  const pool = mysql.createPool({
    ...MYSQL_TARGET,
    database,
    timezone: 'Z',
    supportBigNumbers: true,
    charset: 'utf8mb4',
    connectionLimit: connections,
    maxIdle: connections,
  });
  pool.pool.on('connection', (conn) => {
    conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', () => undefined);
  });
  // Open every connection before measuring, as the broker's pool is warm by the time it is measured.
  await warmPool(connections, () => pool.query('SELECT SLEEP(0.02)'));
  return pool;
}

/** One multi-row INSERT statement for `rows` 1 KB messages, with its parameters, built once. */
function insertStatement(table: string, rows: number, messageBytes: number): { sql: string; params: (Buffer | number | null)[] } {
  const body = Buffer.from(makeBody(messageBytes));
  const params: (Buffer | number | null)[] = [];
  for (let i = 0; i < rows; i++) params.push(null, null, null, null, body, 0);
  const sql = `INSERT INTO ${quotedTable(table)} ${INSERT_PREFIX}${Array.from({ length: rows }, () => ROW_PLACEHOLDERS).join(',')}`;
  return { sql, params };
}

export interface InsertSpec {
  id: string;
  label: string;
  /** A queue-shaped table name (mq_NNNNNN) that no broker queue uses. */
  table: string;
  rowsPerStatement: number;
  connections: number;
  /**
   * Send the INSERT as a prepared statement (binary protocol) instead of a text statement with the
   * values as literals. The broker sends large groups of rows this way (broker/produce/group-commit/insert-plan.ts).
   */
  prepared?: boolean;
}

/** Closed-loop INSERTs into a fresh queue-shaped table, dropped afterwards. */
export function runInsertBaseline(env: ScenarioEnv, database: string, spec: InsertSpec): Promise<ScenarioResult> {
  return guarded({ id: spec.id, label: spec.label, group: 'baseline', unit: 'msgs/s' }, async () => {
    const pool = await openPool(database, spec.connections);
    try {
      await pool.query(createQueueTableSql(spec.table));
      const { sql, params } = insertStatement(spec.table, spec.rowsPerStatement, env.opts.messageBytes);
      const loop = (durationMs: number) =>
        closedLoop(
          {
            producers: spec.connections,
            msgsPerCall: spec.rowsPerStatement,
            durationMs,
            maxMessages: maxMessagesPerScenario(env.opts.messageBytes),
            call: async () => {
              await (spec.prepared ? pool.execute(sql, params) : pool.query(sql, params));
            },
          },
          spec.label,
        );
      await loop(env.opts.warmupMs);
      const m = await measure(env.measureEnv, spec.id, undefined, () => loop(env.opts.durationMs));
      return {
        rate: m.value.msgsPerSec,
        latency: { p50Ms: m.value.p50Ms ?? 0, p99Ms: m.value.p99Ms ?? 0, per: `statement of ${spec.rowsPerStatement}` },
        count: m.value.messages,
        cpu: m.cpu,
        db: perStatement(m.db, m.value.messages),
      };
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${quotedTable(spec.table)}`).catch(() => undefined);
      await pool.end();
    }
  });
}

/** Bound on passes over the tables, on top of the time bound. */
const MAX_PASSES = 1000;

/**
 * Walks queue tables with the broker's range SELECT (id > ? ORDER BY id LIMIT 500), one connection
 * per walker (with fewer walkers than tables, each walks its share one table after another), pass
 * after pass over the same rows until the scenario's time is used up, as the consume drain does.
 */
export function runRangeSelect(
  env: ScenarioEnv,
  database: string,
  tables: readonly string[],
  rows: number,
  walkers: number,
): Promise<ScenarioResult> {
  const id = `raw.select.x${walkers}`;
  const label = `raw SELECT ... LIMIT ${RANGE_LIMIT} walk, ${walkers} connection${walkers > 1 ? 's' : ''}`;
  return guarded({ id, label, group: 'baseline', unit: 'msgs/s' }, async () => {
    const pool = await openPool(database, walkers);
    const shares = Array.from({ length: walkers }, (_, w) => tables.filter((_t, i) => i % walkers === w));
    const statements: number[] = [];

    const pass = async (budgetMs: number): Promise<{ read: number; ms: number }> => {
      const start = performance.now();
      const deadline = start + budgetMs;
      let read = 0;
      let lastReadAt = start;
      const walk = async (mine: readonly string[]): Promise<void> => {
        for (const table of mine) {
          let after = 0;
          while (read < rows && performance.now() < deadline) {
            const t0 = performance.now();
            const [result] = await pool.query(
              `SELECT ${SELECT_COLUMNS} FROM ${quotedTable(table)} WHERE id > ? ORDER BY id LIMIT ?`,
              [after, RANGE_LIMIT],
            );
            const batch = result as { id: number | string }[];
            const last = batch[batch.length - 1];
            if (last === undefined) break; // this table is done
            after = Number(last.id);
            read += batch.length;
            lastReadAt = performance.now();
            statements.push(lastReadAt - t0);
          }
        }
      };
      await withTimeout(Promise.all(shares.map(walk)), budgetMs + GRACE_MS, label);
      return { read, ms: (read >= rows ? lastReadAt : performance.now()) - start };
    };

    try {
      const m = await measure(env.measureEnv, id, undefined, async () => {
        let read = 0;
        let activeMs = 0;
        let passes = 0;
        while (passes < MAX_PASSES && activeMs < env.opts.durationMs) {
          const p = await pass(env.opts.durationMs - activeMs);
          passes++;
          read += p.read;
          activeMs += p.ms;
          if (p.read < rows) break;
        }
        return { read, passes, activeMs };
      });
      const v = m.value;
      const s = summarize(statements);
      return {
        rate: v.read / (Math.max(1, v.activeMs) / 1000),
        latency: { p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs, per: `SELECT of ${RANGE_LIMIT}` },
        count: v.read,
        cpu: m.cpu,
        db: m.db,
        notes: [`${v.read} rows in ${v.passes} pass(es) over ${rows}, ${(v.activeMs / 1000).toFixed(2)} s`],
      };
    } finally {
      await pool.end();
    }
  });
}
