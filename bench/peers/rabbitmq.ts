/**
 * RabbitMQ with amqplib: a durable queue, persistent messages, publisher confirms on the produce side,
 * manual acks with a prefetch window on the consume side.
 */
import { performance } from 'node:perf_hooks';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import {
  at,
  decodeBody,
  BATCH_PRODUCERS,
  BATCH_SIZE,
  GRACE_MS,
  guardPeer,
  importPackage,
  makeBody,
  maxMessagesPerScenario,
  SETUP_TIMEOUT_MS,
  SINGLE_PRODUCERS,
  withTimeout,
} from './common';
import { closedLoop } from './load';
import type { PeerOptions, PeerResult, Throughput } from './types';

// Loopback only, by design.
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const QUEUE = 'tablemq-bench';
const PREFETCH = 200;
/** Ack with `multiple` every N deliveries: well inside the prefetch window, so the broker never stalls on it. */
const ACK_EVERY = 50;

/** Publishes one persistent message and resolves when the broker confirms it (rejects on nack). */
function publishConfirmed(ch: ConfirmChannel, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.sendToQueue(QUEUE, body, { persistent: true }, (err: unknown) => {
      if (err === null || err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(`message nacked: ${JSON.stringify(err)}`));
    });
  });
}

/** One confirm channel per producer, so each producer's confirms are its own. */
async function confirmChannels(conn: ChannelModel, count: number): Promise<ConfirmChannel[]> {
  return Promise.all(Array.from({ length: count }, () => conn.createConfirmChannel()));
}

/** Consumes with manual acks until `target` messages are acked or `durationMs` passed. */
function consumeWith(ch: Channel, target: number, durationMs: number): Promise<Throughput> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let received = 0;
    let acked = 0;
    let last: ConsumeMessage | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Ack what was delivered but not yet acked, so every counted message really was acked.
      if (last !== undefined && acked < received) {
        ch.ack(last, true);
        acked = received;
      }
      const elapsedMs = Math.max(1, performance.now() - start);
      resolve({ msgsPerSec: acked / (elapsedMs / 1000), messages: acked });
    };
    const timer = setTimeout(finish, durationMs);
    if (target <= 0) {
      finish();
      return;
    }
    ch.consume(
      QUEUE,
      (msg) => {
        if (msg === null || settled) return; // null: the broker cancelled the consumer
        decodeBody(msg.content.toString('utf8'));
        received++;
        last = msg;
        if (received % ACK_EVERY === 0 || received >= target) {
          ch.ack(msg, true);
          acked = received;
        }
        if (acked >= target) finish();
      },
      { noAck: false },
    ).catch((err: unknown) => {
      settled = true;
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

export async function run(opts: PeerOptions): Promise<PeerResult> {
  const initial: PeerResult = { peer: 'RabbitMQ', durability: 'RabbitMQ (not measured: setup failed)' };
  return guardPeer(initial, async (result, cleanup) => {
    const amqp = await importPackage('amqplib', () => import('amqplib'));
    const conn = await withTimeout(amqp.connect(AMQP_URL), SETUP_TIMEOUT_MS, 'RabbitMQ connect');
    conn.on('error', () => undefined); // a dead connection also fails the pending calls, which report it
    cleanup.defer('close connection', () => conn.close());

    const admin = await conn.createChannel();
    // Drop a queue a crashed run may have left behind, so the backlog starts empty.
    await admin.deleteQueue(QUEUE);
    // Classic type spelled out: the durability line below describes classic queues, whatever the server default.
    await admin.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    cleanup.defer('delete queue', () => admin.deleteQueue(QUEUE));
    const version = String(conn.connection.serverProperties.version ?? '?');
    result.durability =
      `RabbitMQ ${version} durable classic queue, persistent messages: a publisher confirm is sent once the ` +
      `message is written and fsync'd (fsyncs batched across messages); single node, no replica`;

    const body = Buffer.from(makeBody(opts.messageBytes));
    const maxMessages = maxMessagesPerScenario(opts.messageBytes);

    const singles = await confirmChannels(conn, SINGLE_PRODUCERS);
    result.singleX16 = await closedLoop(
      {
        producers: SINGLE_PRODUCERS,
        msgsPerCall: 1,
        durationMs: opts.durationMs,
        maxMessages,
        call: (p) => publishConfirmed(at(singles, p), body),
      },
      'RabbitMQ singleX16',
    );

    const batchers = await confirmChannels(conn, BATCH_PRODUCERS);
    result.batch100X4 = await closedLoop(
      {
        producers: BATCH_PRODUCERS,
        msgsPerCall: BATCH_SIZE,
        durationMs: opts.durationMs,
        maxMessages,
        call: async (p) => {
          const ch = at(batchers, p);
          // sendToQueue's `false` (write buffer full) is advisory: amqplib keeps buffering, and 100 bodies are small.
          for (let i = 0; i < BATCH_SIZE; i++) ch.sendToQueue(QUEUE, body, { persistent: true });
          await ch.waitForConfirms(); // rejects if any of the 100 was nacked
        },
      },
      'RabbitMQ batch100X4',
    );
    await Promise.all([...singles, ...batchers].map((ch) => ch.close()));

    const consumer = await conn.createChannel();
    await consumer.prefetch(PREFETCH);
    result.consume = await withTimeout(
      consumeWith(consumer, result.singleX16.messages + result.batch100X4.messages, opts.durationMs),
      opts.durationMs + GRACE_MS,
      'RabbitMQ consume',
    );
    // Closing the channel cancels the consumer and requeues any unacked deliveries before the queue is deleted.
    await consumer.close();
  });
}

export default run;
