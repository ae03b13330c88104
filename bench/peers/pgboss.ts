/**
 * pg-boss 10: a durable job queue in PostgreSQL. Produce with `send` / `insert`, consume with
 * batched `fetch` + `complete`, all in a throwaway database.
 */
import type PgBoss from 'pg-boss';
import {
  BATCH_PRODUCERS,
  BATCH_SIZE,
  guardPeer,
  importPackage,
  makePayload,
  maxMessagesPerScenario,
  SETUP_TIMEOUT_MS,
  SINGLE_PRODUCERS,
  warmPool,
  withTimeout,
} from './common';
import { closedLoop, drain } from './load';
import { connect, dropDatabase, loadPg, PG_HOST, PG_PORT, PG_USER, pgDurability, recreateDatabase } from './postgres';
import type { PeerOptions, PeerResult } from './types';

const DATABASE = 'tablemq_bench_pgboss';
const QUEUE = 'bench';

export async function run(opts: PeerOptions): Promise<PeerResult> {
  const initial: PeerResult = { peer: 'pg-boss', durability: 'PostgreSQL (settings not read: setup failed)' };
  return guardPeer(initial, async (result, cleanup) => {
    const pg = await loadPg();
    const PgBossClass = (await importPackage('pg-boss', () => import('pg-boss'))).default;

    await withTimeout(recreateDatabase(pg, DATABASE), SETUP_TIMEOUT_MS, 'create database');
    cleanup.defer('drop database', () => dropDatabase(pg, DATABASE));

    const probe = await connect(pg, DATABASE);
    try {
      result.durability = `job rows in logged tables; ${await pgDurability(probe)}`;
    } finally {
      await probe.end();
    }

    const boss: PgBoss = new PgBossClass({
      host: PG_HOST,
      port: PG_PORT,
      user: PG_USER,
      database: DATABASE,
      // One pooled connection per concurrent producer, so the pool is not the bottleneck.
      max: SINGLE_PRODUCERS + 2,
      // No maintenance or cron timers: they would compete with the measurement and keep the process alive.
      supervise: false,
      schedule: false,
      migrate: true,
    });
    // pg-boss re-emits pool errors; an unhandled 'error' event would crash the whole run.
    let bossError: Error | undefined;
    boss.on('error', (err) => {
      bossError ??= err;
    });
    cleanup.defer('pg-boss stop', () => boss.stop({ graceful: false, close: true, wait: true }));
    await withTimeout(boss.start(), SETUP_TIMEOUT_MS, 'pg-boss start');
    await boss.createQueue(QUEUE);
    await warmPool(SINGLE_PRODUCERS, () => boss.getDb().executeSql('SELECT pg_sleep(0.02)', []));

    const data = makePayload(opts.messageBytes);
    const maxMessages = maxMessagesPerScenario(opts.messageBytes);

    result.singleX16 = await closedLoop(
      {
        producers: SINGLE_PRODUCERS,
        msgsPerCall: 1,
        durationMs: opts.durationMs,
        maxMessages,
        call: async () => {
          // send resolves with null only when a singleton/throttle policy drops the job; that would be a bug here.
          if ((await boss.send(QUEUE, data)) === null) throw new Error('send returned null (job not created)');
        },
      },
      'pg-boss singleX16',
    );

    const jobs = Array.from({ length: BATCH_SIZE }, () => ({ name: QUEUE, data }));
    result.batch100X4 = await closedLoop(
      {
        producers: BATCH_PRODUCERS,
        msgsPerCall: BATCH_SIZE,
        durationMs: opts.durationMs,
        maxMessages,
        call: () => boss.insert(jobs),
      },
      'pg-boss batch100X4',
    );

    result.consume = await drain(
      {
        durationMs: opts.durationMs,
        target: result.singleX16.messages + result.batch100X4.messages,
        idleMs: 5,
        step: async () => {
          const fetched = await boss.fetch(QUEUE, { batchSize: BATCH_SIZE });
          if (fetched.length === 0) return 0;
          await boss.complete(
            QUEUE,
            fetched.map((job) => job.id),
          );
          return fetched.length;
        },
      },
      'pg-boss consume',
    );

    if (bossError !== undefined) throw bossError;
  });
}

export default run;
