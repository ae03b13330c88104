/**
 * BullMQ on Redis: `Queue.add` / `Queue.addBulk` to produce, a `Worker` (concurrency 50) to consume,
 * under a dedicated key prefix that is obliterated before and after the run.
 */
import { performance } from 'node:perf_hooks';
import type { Queue, Worker } from 'bullmq';
import {
  BATCH_PRODUCERS,
  BATCH_SIZE,
  errorMessage,
  GRACE_MS,
  guardPeer,
  importPackage,
  makePayload,
  maxMessagesPerScenario,
  SETUP_TIMEOUT_MS,
  SINGLE_PRODUCERS,
  withTimeout,
} from './common';
import { closedLoop } from './load';
import { makeRedisDurable, REDIS_HOST, REDIS_PORT, redisDurability } from './redis-probe';
import type { PeerOptions, PeerResult, Throughput } from './types';

const PREFIX = 'tablemq-bench';
const QUEUE = 'bench';
const WORKER_CONCURRENCY = 50;

/**
 * The slice of ioredis used here. ioredis is an optional peer dependency of BullMQ 6, so its types may
 * be absent at type-check time; this keeps the file compiling either way.
 */
interface RedisConnection {
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
type RedisConstructor = new (opts: { host: string; port: number; maxRetriesPerRequest: null }) => RedisConnection;

/**
 * Loaded with require() and handed to BullMQ as ready clients: BullMQ's own lazy `require('ioredis')`
 * only works when BullMQ itself was loaded as CommonJS, which a dynamic import() does not guarantee.
 */
async function loadRedis(): Promise<RedisConstructor> {
  // require() returns any; the shape is pinned by the RedisConstructor cast.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when the BullMQ peer runs
  const mod = (await importPackage('ioredis', async () => require('ioredis'))) as RedisConstructor & {
    default?: RedisConstructor;
  };
  return mod.default ?? mod;
}

/** Runs the worker until it has completed `target` jobs or `durationMs` passed, whichever first. */
function consumeWith(worker: Worker, target: number, durationMs: number): Promise<Throughput> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let completed = 0;
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err !== undefined) {
        reject(new Error(`BullMQ consume: ${errorMessage(err)}`));
        return;
      }
      const elapsedMs = Math.max(1, performance.now() - start);
      resolve({ msgsPerSec: completed / (elapsedMs / 1000), messages: completed });
    };
    const timer = setTimeout(() => finish(), durationMs);
    worker.on('completed', () => {
      completed++;
      if (completed >= target) finish();
    });
    worker.on('failed', (_job, err) => finish(err));
    if (target <= 0) finish();
    worker.run().catch((err: unknown) => finish(err));
  });
}

export async function run(opts: PeerOptions): Promise<PeerResult> {
  const initial: PeerResult = { peer: 'BullMQ', durability: 'Redis (settings not read: Redis unreachable)' };
  return guardPeer(initial, async (result, cleanup) => {
    // Raw probe first: fails fast if Redis is down (ioredis would retry forever). Then the same
    // no-loss rule as every other peer: fsync before the acknowledgement, where the server allows it.
    result.durability = await redisDurability();
    try {
      const restore = await makeRedisDurable(SETUP_TIMEOUT_MS);
      cleanup.defer('restore Redis persistence settings', restore);
      result.durability = await redisDurability();
    } catch (err) {
      result.durability += ` (could not turn on appendfsync=always: ${errorMessage(err)})`;
    }
    const Redis = await loadRedis();
    const { Queue: QueueClass, Worker: WorkerClass } = await importPackage('bullmq', () => import('bullmq'));

    // Separate connections, as BullMQ recommends: the worker blocks on its connection while waiting for jobs.
    const connect = (): RedisConnection => {
      const conn = new Redis({ host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null });
      conn.on('error', () => undefined); // failed commands reject on their own; this only silences the event
      cleanup.defer('close Redis connection', async () => {
        await conn.quit().catch(() => conn.disconnect());
      });
      return conn;
    };
    const queueConn = connect();
    const workerConn = connect();

    const openQueue = (): Queue => {
      const queue: Queue = new QueueClass(QUEUE, {
        connection: queueConn,
        prefix: PREFIX,
        // Completed jobs are deleted instead of kept forever (BullMQ's default), as production setups do.
        defaultJobOptions: { removeOnComplete: true },
      });
      queue.on('error', () => undefined); // surfaced through the rejected add/addBulk calls
      return queue;
    };

    // Empty the namespace a crashed run may have left, with a throwaway Queue: obliterate pauses the
    // queue and deletes its meta, so the measured Queue is opened afterwards on a clean slate.
    const stale = openQueue();
    await withTimeout(stale.waitUntilReady(), SETUP_TIMEOUT_MS, 'BullMQ connect');
    await withTimeout(stale.obliterate({ force: true }), SETUP_TIMEOUT_MS, 'obliterate leftovers');
    await stale.close();

    const queue = openQueue();
    cleanup.defer('close queue', () => queue.close());
    cleanup.defer('obliterate queue', () => queue.obliterate({ force: true }));
    await withTimeout(queue.waitUntilReady(), SETUP_TIMEOUT_MS, 'BullMQ connect');

    const data = makePayload(opts.messageBytes);
    const maxMessages = maxMessagesPerScenario(opts.messageBytes);

    result.singleX16 = await closedLoop(
      {
        producers: SINGLE_PRODUCERS,
        msgsPerCall: 1,
        durationMs: opts.durationMs,
        maxMessages,
        call: async () => {
          await queue.add('msg', data);
        },
      },
      'BullMQ singleX16',
    );

    const jobs = Array.from({ length: BATCH_SIZE }, () => ({ name: 'msg', data }));
    result.batch100X4 = await closedLoop(
      {
        producers: BATCH_PRODUCERS,
        msgsPerCall: BATCH_SIZE,
        durationMs: opts.durationMs,
        maxMessages,
        call: async () => {
          await queue.addBulk(jobs);
        },
      },
      'BullMQ batch100X4',
    );

    const worker: Worker = new WorkerClass(QUEUE, async () => undefined, {
      connection: workerConn,
      prefix: PREFIX,
      concurrency: WORKER_CONCURRENCY,
      autorun: false,
    });
    worker.on('error', () => undefined); // fatal errors reach us through run() or 'failed'
    cleanup.defer('close worker', () => worker.close());
    result.consume = await withTimeout(
      consumeWith(worker, result.singleX16.messages + result.batch100X4.messages, opts.durationMs),
      opts.durationMs + GRACE_MS,
      'BullMQ consume',
    );
  });
}

export default run;
