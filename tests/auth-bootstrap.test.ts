import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../shared/config';
import { startBroker, type Broker } from '../broker/server';
import { apiClient, TEST_ADMIN_TOKEN, testConfig } from './helpers/broker';
import { capturingLogger } from './helpers/log';
import { freshDatabase, sqlClient } from './helpers/db';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function scratch() {
  const dir = await mkdtemp(path.join(tmpdir(), 'tmq-bootstrap-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function fresh(label: string) {
  const database = await freshDatabase(label);
  cleanups.push(() => database.drop());
  return database;
}

describe('admin bootstrap', () => {
  test('without TABLEMQ_ADMIN_TOKEN, the first broker writes a new admin token to a 0600 file in a 0700 directory, logs the path and never the token', async () => {
    const database = await fresh('bootstrap');
    const file = path.join(await scratch(), 'state', 'admin-token');
    const log = capturingLogger();
    const broker = await startBroker(testConfig(database.url, { adminToken: '', adminTokenFile: file, logLevel: 'silly' }), log.logger);
    try {
      const token = (await readFile(file, 'utf8')).trim();
      assert.match(token, /^tmq_[A-Za-z0-9_-]{43}$/);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
      const api = apiClient(`http://127.0.0.1:${broker.port}`, token);
      assert.equal((await api.post('/api/v1/admin/topics', { name: 'boot', queues: 1 })).status, 201);
      assert.equal((await api.post('/api/v1/topics/boot/messages', { messages: [{ body: 1 }] })).status, 201);
      assert.equal((await apiClient(`http://127.0.0.1:${broker.port}`, null).get('/api/v1/admin/topics')).status, 401);
      assert.ok(log.text().includes(JSON.stringify(file).slice(1, -1)), 'the log names the file');
      assert.ok(!log.text().includes(token), 'the log never holds the token');
      assert.ok(!log.text().includes(TEST_ADMIN_TOKEN));
    } finally {
      await broker.stop();
    }
  });

  test('brokers starting together make one admin app; the file keeps its valid token; a restart does not rewrite it', async () => {
    const database = await fresh('bootstrap_race');
    const file = path.join(await scratch(), 'admin-token');
    const config = testConfig(database.url, { adminToken: '', adminTokenFile: file });
    const log = capturingLogger();
    const brokers: Broker[] = await Promise.all([1, 2, 3].map(() => startBroker(config, log.logger)));
    cleanups.push(async () => {
      for (const b of brokers) await b.stop();
    });
    const token = (await readFile(file, 'utf8')).trim();
    const sql = await sqlClient(database.name);
    cleanups.push(() => sql.end());
    assert.equal(await sql.count('app'), 1);
    assert.equal(await sql.count('app_token'), 1);
    for (const b of brokers) assert.equal((await apiClient(`http://127.0.0.1:${b.port}`, token).get('/api/v1/admin/apps')).status, 200);

    const before = await stat(file);
    const again = await startBroker(config, log.logger);
    brokers.push(again);
    assert.equal((await stat(file)).mtimeMs, before.mtimeMs, 'an admin exists: the file is left alone');
    assert.equal((await readFile(file, 'utf8')).trim(), token);
    assert.ok(!log.text().includes(token));
  });

  test('TABLEMQ_ADMIN_TOKEN adds its token to app "admin" beside a bootstrapped one (the way back in when the file is lost)', async () => {
    const database = await fresh('bootstrap_given');
    const file = path.join(await scratch(), 'admin-token');
    const first = await startBroker(testConfig(database.url, { adminToken: '', adminTokenFile: file }), capturingLogger().logger);
    await first.stop();
    const fromFile = (await readFile(file, 'utf8')).trim();
    const given = `given-${'x'.repeat(40)}`;
    const log = capturingLogger();
    const broker = await startBroker(testConfig(database.url, { adminToken: given }), log.logger);
    try {
      for (const token of [fromFile, given]) assert.equal((await apiClient(`http://127.0.0.1:${broker.port}`, token).get('/api/v1/admin/apps')).status, 200);
      assert.ok(!log.text().includes(given), 'the given token is not logged either');
    } finally {
      await broker.stop();
    }
  });

  test('an admin token file that can not be written stops the start with a ConfigError naming TABLEMQ_ADMIN_TOKEN_FILE', async () => {
    const database = await fresh('bootstrap_bad');
    const blocker = path.join(await scratch(), 'a-file');
    await writeFile(blocker, 'not a directory');
    await assert.rejects(
      startBroker(testConfig(database.url, { adminToken: '', adminTokenFile: path.join(blocker, 'admin-token') }), capturingLogger().logger),
      (err: Error) => err instanceof ConfigError && err.message.includes('TABLEMQ_ADMIN_TOKEN_FILE'),
    );
  });
});
