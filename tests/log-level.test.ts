import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import winston from 'winston';
import { startBroker, type Broker } from '../broker/server';
import { apiClient, createTopic, produce, testConfig, type Api } from './helpers/broker';
import { freshDatabase, sqlClient } from './helpers/db';
import { waitFor } from './helpers/wait';

/** A broker whose JSON log lines land in `lines`, at level info to begin with. */
let broker: Broker;
let api: Api;
let database: Awaited<ReturnType<typeof freshDatabase>>;
const lines: { level: string; message: string }[] = [];

before(async () => {
  database = await freshDatabase('loglevel');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: string; message: string });
      done();
    },
  });
  const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: sink })] });
  broker = await startBroker(testConfig(database.url, { logLevel: 'info' }), logger);
  api = apiClient(`http://127.0.0.1:${broker.port}`);
});
after(async () => {
  await broker?.stop();
  await database?.drop();
});

const debugLines = () => lines.filter((l) => l.level === 'debug' && l.message === 'produce committed').length;

describe('runtime log level', () => {
  test('PUT log-level debug shows debug lines from the next request on; it is audited', async () => {
    await createTopic(api, 'noisy', 1);
    await produce(api, 'noisy', [{ body: 1 }]);
    assert.equal(debugLines(), 0, 'nothing at debug while the level is info');

    const put = await api.call('PUT', '/api/v1/admin/log-level', { level: 'debug' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, { level: 'debug', revertsTo: null, revertsAt: null });
    await produce(api, 'noisy', [{ body: 2 }]);
    assert.equal(debugLines(), 1, 'the very next produce logs at debug');
    assert.ok(lines.some((l) => l.level === 'http' && l.message === 'request'), 'and requests are logged (http is below debug)');
    assert.deepEqual((await api.get('/api/v1/admin/log-level')).body, { level: 'debug', revertsTo: null, revertsAt: null });

    const sql = await sqlClient(database.name);
    try {
      const audit = await sql.rows<{ actor: string; detail: string }>("SELECT actor, detail FROM audit_log WHERE action = 'broker.log-level'");
      assert.equal(audit.length, 1);
      assert.match(audit[0]!.actor, /^admin@/, 'the caller (here the admin token)');
      assert.deepEqual(JSON.parse(audit[0]!.detail), { level: 'debug', previous: 'info' });
    } finally {
      await sql.end();
    }
  });

  test('with durationMs the level goes back to the one set without a duration', async () => {
    assert.equal((await api.call('PUT', '/api/v1/admin/log-level', { level: 'warn' })).status, 200);
    const put = await api.call('PUT', '/api/v1/admin/log-level', { level: 'debug', durationMs: 300 });
    assert.equal(put.body.level, 'debug');
    assert.equal(put.body.revertsTo, 'warn');
    assert.ok(Date.parse(put.body.revertsAt) > Date.now() - 1000);
    await waitFor('the revert', async () => (await api.get('/api/v1/admin/log-level')).body.level === 'warn', 5_000, 50);
    const before = debugLines();
    await produce(api, 'noisy', [{ body: 3 }]);
    assert.equal(debugLines(), before, 'no debug lines after the revert');
    assert.equal(broker.ctx.logger.level, 'warn');
  });

  test('an unknown level or a bad duration is a 400 and changes nothing', async () => {
    const levelBefore = broker.ctx.logger.level;
    for (const body of [{ level: 'loud' }, { level: 'debug', durationMs: 0 }, { level: 'debug', extra: 1 }, {}]) {
      const res = await api.call('PUT', '/api/v1/admin/log-level', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
    assert.equal(broker.ctx.logger.level, levelBefore);
  });
});
