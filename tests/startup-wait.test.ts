import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, unknownEnvWarnings } from '../shared/config';
import { apiClient } from './helpers/broker';
import { freshDatabase } from './helpers/db';
import { childEnv, spawnTs, type Child } from './helpers/jobs';
import { waitFor } from './helpers/wait';
import { startTcpProxy } from './helpers/tcp-proxy';

const children: Child[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  for (const c of cleanups.reverse()) await c();
});

/**
 * One metadata DB for the file, behind a proxy that refuses connections while cut. The first test
 * migrates it; later ones find it ready, which keeps each start-up short.
 */
let db: { proxy: Awaited<ReturnType<typeof startTcpProxy>>; url: string };
before(async () => {
  const fresh = await freshDatabase('startwait');
  const proxy = await startTcpProxy(3306);
  cleanups.push(async () => {
    await proxy.close();
    await fresh.drop();
  });
  db = { proxy, url: `mysql://root@127.0.0.1:${proxy.port}/${fresh.name}` };
});

function spawn(entry: string, args: string[], vars: Record<string, string>): Child {
  const child = spawnTs(entry, args, childEnv(vars));
  children.push(child);
  return child;
}

describe('start-up while the metadata database is unreachable', () => {
  test('the broker listens, answers /readyz 503 and other calls 503, logs each retry, and comes up once the database is reachable', async () => {
    const { proxy, url } = db;
    proxy.cut();
    // With a misspelt variable too, whose warning names the key meant.
    const broker = spawn('broker/main.ts', [], { TABLEMQ_MYSQL_URL: url, TABLEMQ_PORT: '0', TABLEMQ_HOST: '127.0.0.1', TABLEMQ_STARTUP_TIMEOUT_MS: '60000', TABLEMQ_STARTUP_TIMEOUT: '5' });
    const port = await waitFor('the broker to listen', async () => Number(/"message":"broker starting[^"]*","port":(\d+)/.exec(broker.stdout())?.[1] ?? 0) || undefined, 20_000);
    const api = apiClient(`http://127.0.0.1:${port}`);
    await waitFor('a retry log line', async () => /"message":"metadata database unreachable; retrying"/.test(broker.stdout()), 20_000);
    assert.equal((await api.get('/healthz')).status, 200);
    assert.equal((await api.get('/readyz')).status, 503);
    const admin = await api.get('/api/v1/admin/topics');
    assert.equal(admin.status, 503);
    assert.equal(admin.body.error.code, 'STORE_UNAVAILABLE');
    assert.equal(admin.headers.get('retry-after'), '1');
    assert.equal(broker.process.exitCode, null, 'still running');

    proxy.restore();
    await waitFor('the broker to be ready', async () => (await api.get('/readyz')).status === 200, 20_000);
    assert.equal((await api.get('/api/v1/admin/topics')).status, 200);
    assert.match(broker.stdout(), /"message":"metadata database reached"/);
    assert.match(broker.stdout(), /unknown environment variable TABLEMQ_STARTUP_TIMEOUT is ignored; did you mean TABLEMQ_STARTUP_TIMEOUT_MS\?/);
    broker.process.kill('SIGTERM');
    assert.equal(await broker.exited, 0);
  });

  test('the broker gives up after startupTimeoutMs with a one-line reason and exit code 1', async () => {
    const { proxy, url } = db;
    proxy.cut();
    const broker = spawn('broker/main.ts', [], { TABLEMQ_MYSQL_URL: url, TABLEMQ_PORT: '0', TABLEMQ_HOST: '127.0.0.1', TABLEMQ_STARTUP_TIMEOUT_MS: '1000' });
    assert.equal(await broker.exited, 1);
    assert.match(broker.stderr(), /metadata database at 127\.0\.0\.1:\d+ stayed unreachable for 1000 ms \(startupTimeoutMs\)/);
    assert.doesNotMatch(broker.stderr(), /\n\s+at /, 'no stack trace');
  });

  test('a portal-jobs one-shot run waits for the database the same way', async () => {
    const { proxy, url } = db;
    proxy.cut();
    const jobs = spawn('portal-jobs/main.ts', ['run', 'expire-consumers'], { TABLEMQ_MYSQL_URL: url, TABLEMQ_STARTUP_TIMEOUT_MS: '60000' });
    await waitFor('a retry log line', async () => /"message":"metadata database unreachable; retrying"/.test(jobs.stdout()), 20_000);
    assert.equal(jobs.process.exitCode, null, 'still waiting');
    proxy.restore();
    assert.equal(await jobs.exited, 0, jobs.stderr());
  });
});

describe('unknown TABLEMQ_* variables', () => {
  test('each gets a warning naming the closest known key; known ones and other prefixes get none', () => {
    const warnings = unknownEnvWarnings({ TABLEMQ_PROT: '1', TABLEMQ_SESSON_TIMEOUT_MS: '1', TABLEMQ_PORT: '1', TABLEMQ_LOG_SILENT: '1', TABLEMQ_CONFIG_FILE: 'x', HOME: '/' });
    assert.deepEqual(warnings, [
      'unknown environment variable TABLEMQ_PROT is ignored; did you mean TABLEMQ_PORT?',
      'unknown environment variable TABLEMQ_SESSON_TIMEOUT_MS is ignored; did you mean TABLEMQ_SESSION_TIMEOUT_MS?',
    ]);
  });

  test('startupTimeoutMs is a config key with a default', () => {
    assert.equal(loadConfig({}).startupTimeoutMs, 60_000);
    assert.equal(loadConfig({ TABLEMQ_STARTUP_TIMEOUT_MS: '0' }).startupTimeoutMs, 0);
  });
});
