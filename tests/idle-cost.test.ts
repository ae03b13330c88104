import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBroker, type Broker } from '../broker/server';
import { createLogger } from '../shared/logger';
import { apiClient, createGroup, createTopic, joinGroup, testConfig, type Api, type TestConsumer } from './helpers/broker';
import { startPrivateMariaDb, type PrivateMariaDb } from './helpers/private-mariadb';

// MariaDB's Questions counter is server-wide, so this test runs its own server: nothing but this
// broker (and the counter reads) talks to it.
const POLL_MS = 200;
let server: PrivateMariaDb;
let broker: Broker;
let api: Api;
before(async () => {
  server = await startPrivateMariaDb({ args: ['--innodb-flush-log-at-trx-commit=0'] });
  await server.query('CREATE DATABASE tmq_idle');
  broker = await startBroker(testConfig(server.url('tmq_idle'), { pullPollIntervalMs: POLL_MS }), createLogger('error', 'test-broker'));
  api = apiClient(`http://127.0.0.1:${broker.port}`);
});
after(async () => {
  await broker?.stop();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function questions(): Promise<number> {
  const rows = (await server.query("SHOW GLOBAL STATUS LIKE 'Questions'")) as { Value: string }[];
  return Number(rows[0]?.Value);
}

/** `n` consumers of a fresh group over `queues` queues, each with a long-poll waiting on an empty queue. */
async function waitingConsumers(name: string, n: number, queues: number): Promise<{ consumers: TestConsumer[]; pulls: Promise<unknown>[] }> {
  await createTopic(api, name, queues);
  await createGroup(api, name, [name]);
  const consumers = await Promise.all(Array.from({ length: n }, (_, i) => joinGroup(api, name, `c${i}`)));
  const before = broker.ctx.waitingPulls.size;
  // Joined first, then pulls: a join moves queues and so wakes the pulls already waiting.
  const pulls = consumers.map((c) => c.pull({ waitMs: 25_000 }));
  const deadline = Date.now() + 15_000;
  while (broker.ctx.waitingPulls.size < before + n) {
    if (Date.now() > deadline) throw new Error(`only ${broker.ctx.waitingPulls.size - before} of ${n} pulls wait`);
    await sleep(10);
  }
  return { consumers, pulls };
}

/** Statements per second the server answers over a window (the two counter reads included). */
async function statementsPerSecond(windowMs: number): Promise<number> {
  await sleep(3 * POLL_MS); // let wake-ups from the set-up run out
  const start = await questions();
  const began = Date.now();
  await sleep(windowMs);
  return ((await questions()) - start) / ((Date.now() - began) / 1000);
}

test('statements per second with waiting consumers do not grow with their number', async () => {
  const few = await waitingConsumers('few', 3, 24);
  const withFew = await statementsPerSecond(2000);
  for (const c of few.consumers) await c.leave(); // ends their pulls at once
  await Promise.all(few.pulls);

  const many = await waitingConsumers('many', 24, 24);
  assert.equal(broker.ctx.waitingPulls.size, 24);
  const withMany = await statementsPerSecond(2000);
  for (const c of many.consumers) await c.leave();
  await Promise.all(many.pulls);

  // A poll per pull would cost about 2 statements per pull per interval: 24 pulls, 240/s.
  assert.ok(withMany < withFew * 1.5 + 10, `3 waiting: ${withFew.toFixed(1)}/s, 24 waiting: ${withMany.toFixed(1)}/s`);
});
