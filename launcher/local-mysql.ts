import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_CONFIG, parseMysqlUrl } from '../shared/config';

/**
 * `npm start` on a machine where MySQL or MariaDB is installed but not running: with no
 * TABLEMQ_MYSQL_URL (nor a config file) and nothing answering on the default address, start a
 * private server from the installed binary, its data under `.tablemq/`, on the default port, so
 * that the default URL reaches it. It is stopped when the launcher exits.
 */
export interface LocalServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface LocalServerOptions {
  /** Where the data directory, socket and error log go. */
  dir: string;
  /** The address to check and to serve (the default TABLEMQ_MYSQL_URL unless a test says otherwise). */
  url?: string;
  /** Loud notices for the operator (stderr). */
  say: (text: string) => void;
}

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 60_000;
/** Where distributions put the server binary when it is not on PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/libexec', '/usr/local/mysql/bin', '/usr/local/sbin'];
/** mariadbd and mysqld refuse to run as root unless told to. */
const AS_ROOT = process.getuid?.() === 0 ? ['--user=root'] : [];

function answers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function findBinary(names: readonly string[]): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Creates the system tables of a new data directory (MariaDB's installer, or MySQL's --initialize-insecure). */
async function initialize(server: string, dataDir: string): Promise<void> {
  if (path.basename(server) === 'mariadbd') {
    const installer = await findBinary(['mariadb-install-db', 'mysql_install_db']);
    if (!installer) throw new Error('found mariadbd but not mariadb-install-db to create its data directory');
    await execFileAsync(installer, ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...AS_ROOT]);
  } else {
    await execFileAsync(server, ['--no-defaults', '--initialize-insecure', `--datadir=${dataDir}`, ...AS_ROOT]);
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(timer);
}

/** Starts a private server when one is needed (see above); undefined when not. */
export async function startLocalServerIfNeeded(env: NodeJS.ProcessEnv, options: LocalServerOptions): Promise<LocalServer | undefined> {
  if (env.TABLEMQ_MYSQL_URL !== undefined || env.TABLEMQ_CONFIG_FILE !== undefined) return undefined;
  const url = options.url ?? DEFAULT_CONFIG.mysqlUrl;
  const target = parseMysqlUrl(url);
  if (await answers(target.host, target.port)) return undefined;
  const server = await findBinary(['mariadbd', 'mysqld']);
  if (!server) {
    options.say(`nothing answers on ${target.host}:${target.port} and no MariaDB/MySQL server binary is installed: set TABLEMQ_MYSQL_URL`);
    return undefined;
  }

  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, 'mysql-data');
  const errorLog = path.join(dir, 'mysql-error.log');
  await mkdir(dir, { recursive: true });
  if (!(await exists(path.join(dataDir, 'mysql')))) {
    options.say(`creating a private database server's data directory in ${dataDir}`);
    await initialize(server, dataDir);
  }
  const child = spawn(
    server,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--port=${target.port}`,
      `--bind-address=${target.host}`,
      `--socket=${path.join(dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      ...AS_ROOT,
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(target.host, target.port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stopServer(child);
      const log = await readFile(errorLog, 'utf8').catch(() => '');
      throw new Error(`the private database server did not start (see ${errorLog}):\n${log.split('\n').slice(-10).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  options.say(
    [
      '',
      '*'.repeat(78),
      `* No database answered on ${target.host}:${target.port} and TABLEMQ_MYSQL_URL is not set, so tablemq`,
      `* started a PRIVATE ${path.basename(server)} (pid ${child.pid}) with its data in ${dataDir}.`,
      '* It stops when tablemq stops. For real use, run your own server and set TABLEMQ_MYSQL_URL.',
      '*'.repeat(78),
      '',
    ].join('\n'),
  );
  let stopping: Promise<void> | undefined;
  return { url, dataDir, stop: () => (stopping ??= stopServer(child)) };
}
