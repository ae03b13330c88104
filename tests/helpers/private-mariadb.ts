import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { formatSql } from '../../shared/db/sql-literal';

/**
 * A MariaDB server of a test's own, for what the shared server must never see: other global
 * settings (a global sql_mode), being killed or restarted. Its own temp datadir, port and socket;
 * no grant tables (any user connects, no password), so start-up takes about a second.
 *
 *   const server = await startPrivateMariaDb({ sqlMode: 'NO_BACKSLASH_ESCAPES' });
 *   after(() => server.stop());
 */
export interface PrivateMariaDb {
  host: string;
  port: number;
  /** A mysql:// URL for `database` on this server, as TABLEMQ_MYSQL_URL takes it. */
  url(database: string): string;
  /** Connection settings for mysql2. */
  connection: { host: string; port: number; user: string; password: string };
  /** Runs one statement on a short-lived connection (set-up and assertions); values are bound by tablemq's own sql-literal.ts, right whatever the global sql_mode. */
  query(sql: string, values?: unknown[]): Promise<unknown>;
  /** SIGKILL, and waits for the process to be gone (the datadir stays, for `start`). */
  kill(): Promise<void>;
  /** Starts the server again on the same datadir and port (after `kill`), and waits until it answers. */
  start(): Promise<void>;
  /** Shuts the server down and deletes its datadir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface PrivateMariaDbOptions {
  /** The server's global sql_mode (the server's default when absent). */
  sqlMode?: string;
  /** More mariadbd options, e.g. ['--innodb-flush-log-at-trx-commit=2']. */
  args?: string[];
}

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 30_000;

/** Servers still running when the test process exits are killed, so a failed test leaves none behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Small buffers and logs: a test server holds a few tables. */
const SMALL = ['--innodb-buffer-pool-size=16M', '--innodb-log-file-size=4M', '--skip-name-resolve'];
/** mariadbd refuses to run as root unless told to. */
const AS_USER = process.getuid?.() === 0 ? ['--user=root'] : [];

export async function startPrivateMariaDb(options: PrivateMariaDbOptions = {}): Promise<PrivateMariaDb> {
  const dir = await mkdtemp(join(tmpdir(), 'tmq-mariadb-'));
  const datadir = join(dir, 'data');
  const errorLog = join(dir, 'error.log');
  try {
    await execFileAsync('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...AS_USER, ...SMALL]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error('mariadb-install-db failed', { cause: err });
  }
  const port = await freePort();
  const host = '127.0.0.1';
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--port=${port}`,
    `--bind-address=${host}`,
    `--socket=${join(dir, 'mariadb.sock')}`,
    `--pid-file=${join(dir, 'mariadb.pid')}`,
    `--log-error=${errorLog}`,
    '--skip-grant-tables',
    '--performance-schema=OFF',
    ...AS_USER,
    ...SMALL,
    ...(options.sqlMode === undefined ? [] : [`--sql-mode=${options.sqlMode}`]),
    ...(options.args ?? []),
  ];
  const connection = { host, port, user: 'root', password: '' };
  let child: ChildProcess | undefined;
  let stopped = false;

  async function exited(c: ChildProcess): Promise<void> {
    if (c.exitCode !== null || c.signalCode !== null) return;
    await once(c, 'exit');
  }

  async function start(): Promise<void> {
    const c = spawn('mariadbd', args, { stdio: 'ignore' });
    child = c;
    running.add(c);
    c.once('exit', () => running.delete(c));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) {
        const log = await readFile(errorLog, 'utf8').catch(() => '');
        throw new Error(`private mariadbd exited at start (${c.exitCode ?? c.signalCode}):\n${log.split('\n').slice(-15).join('\n')}`);
      }
      try {
        const conn = await mysql.createConnection({ ...connection, connectTimeout: 1_000 });
        await conn.end();
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          c.kill('SIGKILL');
          throw new Error(`private mariadbd did not answer on port ${port} within ${READY_TIMEOUT_MS} ms`, { cause: err });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function kill(): Promise<void> {
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host,
    port,
    connection,
    url: (database) => `mysql://root@${host}:${port}/${database}`,
    async query(sql, values) {
      const conn = await mysql.createConnection({ ...connection, queryFormat: formatSql });
      try {
        const [rows] = await conn.query(sql, values);
        return rows;
      } finally {
        await conn.end();
      }
    },
    kill,
    start,
    stop,
  };
}
