import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { startBroker } from '../broker/server';
import { prepareMetadata } from '../shared/db/prepare-metadata';
import { apiClient, TEST_ADMIN_TOKEN, testConfig } from './helpers/broker';
import { freshDatabase, MYSQL, sqlClient } from './helpers/db';
import { startTcpProxy } from './helpers/tcp-proxy';
import mysql from 'mysql2/promise';
import { migrationSource } from '../migrations';

process.env.TABLEMQ_LOG_SILENT ??= '1';
const logger = createLogger('error', 'test');
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function dropLater(name: string) {
  cleanups.push(async () => {
    const c = await mysql.createConnection(MYSQL);
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.end();
  });
}

describe('start-up', () => {
  test('migrations create the metadata database and schema from nothing', async () => {
    const name = `tmq_t_empty_${process.pid}_${Date.now() % 100000}`;
    await dropLater(name);
    const db = await prepareMetadata(testConfig(`mysql://root@127.0.0.1:3306/${name}`), logger);
    await db.destroy();
    const sql = await sqlClient(name);
    const tables = await sql.tables();
    for (const table of ['db_node', 'topic', 'queue', 'consumer_group', 'subscription', 'consumer', 'queue_offset', 'job_lease', 'job_run', 'audit_log']) {
      assert.ok(tables.includes(table), `${table} exists`);
    }
    assert.equal(await sql.count('db_node'), 1);
    await sql.end();
  });

  test('two migrators at once both succeed and seed one default node', async () => {
    const fresh = await freshDatabase('parallel');
    cleanups.push(() => fresh.drop());
    const config = testConfig(fresh.url);
    const dbs = await Promise.all([prepareMetadata(config, logger), prepareMetadata(config, logger), prepareMetadata(config, logger)]);
    await Promise.all(dbs.map((d) => d.destroy()));
    const sql = await sqlClient(fresh.name);
    assert.equal(await sql.count('db_node'), 1);
    // Each migration recorded once, however many migrators raced.
    assert.equal(await sql.count('knex_migrations'), (await migrationSource.getMigrations([])).length);
    await sql.end();
  });

  test('two brokers started at once against an empty database both come up', async () => {
    const fresh = await freshDatabase('twobrokers');
    cleanups.push(() => fresh.drop());
    const brokers = await Promise.all([startBroker(testConfig(fresh.url), logger), startBroker(testConfig(fresh.url), logger)]);
    for (const b of brokers) {
      const res = await apiClient(`http://127.0.0.1:${b.port}`).get('/readyz');
      assert.equal(res.status, 200);
    }
    await Promise.all(brokers.map((b) => b.stop()));
  });

  test('readyz answers 503 and admin calls 503 when the metadata database is unreachable', async () => {
    const fresh = await freshDatabase('unready');
    cleanups.push(() => fresh.drop());
    const proxy = await startTcpProxy(3306);
    const broker = await startBroker(testConfig(`mysql://root@127.0.0.1:${proxy.port}/${fresh.name}`), logger);
    const api = apiClient(`http://127.0.0.1:${broker.port}`);
    assert.equal((await api.get('/readyz')).status, 200);
    proxy.cut();
    assert.equal((await api.get('/readyz')).status, 503);
    assert.equal((await api.get('/healthz')).status, 200, 'the process itself is alive');
    const admin = await api.get('/api/v1/admin/topics');
    assert.equal(admin.status, 503);
    assert.equal(admin.body.error.code, 'STORE_UNAVAILABLE');
    proxy.restore();
    await broker.stop();
    await proxy.close();
  });
});

describe('configuration', () => {
  test('defaults match the documented contract', () => {
    const c = loadConfig({});
    assert.equal(c.mysqlUrl, 'mysql://root@127.0.0.1:3306/tablemq');
    assert.equal(c.port, 8080);
    assert.equal(c.sessionTimeoutMs, 30000);
    assert.equal(c.heartbeatIntervalMs, 5000);
    assert.equal(c.logLevel, 'info');
  });

  test('environment variables override defaults', () => {
    const c = loadConfig({ TABLEMQ_PORT: '9090', TABLEMQ_LOG_LEVEL: 'debug', TABLEMQ_MAX_MESSAGES_PER_REQUEST: '10' });
    assert.equal(c.port, 9090);
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.maxMessagesPerRequest, 10);
  });

  for (const [key, value] of [
    ['TABLEMQ_PORT', 'abc'],
    ['TABLEMQ_PORT', '70000'],
    ['TABLEMQ_LOG_LEVEL', 'loud'],
    ['TABLEMQ_MYSQL_URL', 'postgres://x/y'],
    ['TABLEMQ_MYSQL_URL', 'mysql://root@h/bad`name'],
    ['TABLEMQ_SESSION_TIMEOUT_MS', '1.5'],
  ] as const) {
    test(`${key}=${value} is rejected with a message naming the key`, () => {
      assert.throws(() => loadConfig({ [key]: value }), (err: Error) => err instanceof ConfigError && err.message.includes(key));
    });
  }

  test('a broker with a bad setting exits non-zero naming the key', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'broker/main.ts'], {
      env: { ...process.env, TABLEMQ_PORT: 'not-a-port' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(stderr, /TABLEMQ_PORT/);
  });
});

describe('signals', () => {
  test('SIGTERM stops the broker cleanly with exit code 0', async () => {
    const fresh = await freshDatabase('sigterm');
    cleanups.push(() => fresh.drop());
    const child = spawn(process.execPath, ['--import', 'tsx', 'broker/main.ts'], {
      env: { ...process.env, TABLEMQ_MYSQL_URL: fresh.url, TABLEMQ_PORT: '0', TABLEMQ_HOST: '127.0.0.1', TABLEMQ_LOG_SILENT: '0', TABLEMQ_ADMIN_TOKEN: TEST_ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /"message":"broker listening","port":(\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error(`broker exited early: ${stdout}`)));
    });
    assert.equal((await apiClient(`http://127.0.0.1:${port}`).get('/healthz')).status, 200);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    assert.match(stdout, /broker stopped/);
  });
});
