/**
 * End-to-end latency: an open-loop producer sends single-message requests at a steady rate, spread
 * evenly (it does not wait for acks before sending the next), while one consumer, the client
 * library's, long-polls (waitMs 5000, the next pull out while a batch is handled) and commits on
 * its interval. Latency = the handler's time - send time, both read from the same monotonic clock
 * in this process; the send time travels in the message body.
 */
import { performance } from 'node:perf_hooks';
import { Consumer } from '../client';
import { producePath, type TablemqApi } from './api';
import { BENCH_ADMIN_TOKEN, expectStatus, JsonClient } from './http-client';
import { measure } from './measure';
import { errorMessage, GRACE_MS, sleep, withTimeout } from './peers/common';
import type { ScenarioResult } from './results';
import { guarded, type ScenarioEnv } from './scenario';
import { summarize } from './stats';

const LONG_POLL_MS = 5000;
const PULL_MAX = 500;
/** Open loop, but bounded: if the broker stalls, at most this many requests wait at once. */
const MAX_IN_FLIGHT = 64;
/** The consumer keeps going this long after the last send for the stragglers. */
const DRAIN_AFTER_MS = 10_000;

interface E2eBody {
  seq: number;
  sentAt: number;
  pad: string;
}

function isE2eBody(v: unknown): v is E2eBody {
  return typeof v === 'object' && v !== null && 'seq' in v && 'sentAt' in v && typeof v.sentAt === 'number';
}

export function runE2e(env: ScenarioEnv, api: TablemqApi): Promise<ScenarioResult> {
  const { e2eRate: rate, durationMs, warmupMs, messageBytes, queues } = env.opts;
  const label = `tablemq end-to-end latency at ${rate} msgs/s`;
  return guarded({ id: 'e2e', label, group: 'tablemq', unit: 'msgs/s' }, async () => {
    const broker = env.broker;
    if (broker === undefined) throw new Error('broker not running');
    const topic = 'bench-e2e';
    await api.createTopic(topic, queues);
    await api.createGroup(topic, topic, 'latest');

    const producerClient = new JsonClient(broker.port, MAX_IN_FLIGHT);
    // Set by the measured run; the consumer starts (and registers) before it.
    let onMessages: (messages: { body: unknown }[], now: number) => void = () => undefined;
    const consumer = new Consumer({
      brokers: [`http://127.0.0.1:${broker.port}`],
      token: BENCH_ADMIN_TOKEN,
      group: topic,
      name: 'e2e-0',
      maxMessages: PULL_MAX,
      waitMs: LONG_POLL_MS,
      batchHandler: (messages) => onMessages(messages, performance.now()),
    });
    // The pad makes the body about messageBytes of JSON, like every other scenario's.
    const pad = 'x'.repeat(Math.max(0, messageBytes - JSON.stringify({ seq: 100000, sentAt: 123456.789012, pad: '' }).length));
    const path = producePath(topic);
    // The first warm-up's worth of messages is produced and consumed but left out of the latencies.
    const warmupCount = Math.floor((rate * warmupMs) / 1000);
    const total = warmupCount + Math.floor((rate * durationMs) / 1000);
    const intervalMs = 1000 / rate;

    try {
      await consumer.start();
      const m = await measure(env.measureEnv, 'e2e', broker, async () => {
        const acks: number[] = [];
        const latencies: number[] = [];
        const seen = new Set<number>();
        let duplicates = 0;
        let batches = 0;
        let sent = 0;
        let inFlight = 0;
        let failure: unknown;
        let producing = true;
        const start = performance.now();
        const sendDeadline = start + warmupMs + durationMs + GRACE_MS;

        const send = async (seq: number): Promise<void> => {
          const sentAt = performance.now();
          const body = Buffer.from(JSON.stringify({ messages: [{ body: { seq, sentAt, pad } }] }));
          inFlight++;
          try {
            expectStatus(await producerClient.post(path, body), 201, 'e2e produce');
            if (seq >= warmupCount) acks.push(performance.now() - sentAt);
          } catch (err) {
            failure ??= err;
          } finally {
            inFlight--;
          }
        };
        const produce = async (): Promise<void> => {
          const pending: Promise<void>[] = [];
          while (sent < total && failure === undefined && performance.now() < sendDeadline) {
            // Send every message that is due by now: evenly spaced, catching up after a late timer.
            const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
            while (sent < due && inFlight < MAX_IN_FLIGHT) pending.push(send(sent++));
            await sleep(1);
          }
          await Promise.all(pending);
          producing = false;
        };
        let received = 0;
        onMessages = (messages, now) => {
          batches++;
          for (const msg of messages) {
            if (!isE2eBody(msg.body)) {
              failure ??= new Error('e2e: a message without its send time');
              return;
            }
            if (seen.has(msg.body.seq)) {
              duplicates++;
              continue;
            }
            seen.add(msg.body.seq);
            received++;
            if (msg.body.seq >= warmupCount) latencies.push(now - msg.body.sentAt);
          }
        };
        const consume = async (): Promise<void> => {
          // Hard stop even if the producer never finishes; shortened to DRAIN_AFTER_MS once it does.
          let deadline = sendDeadline + DRAIN_AFTER_MS;
          let draining = false;
          while (received < total && performance.now() < deadline && failure === undefined) {
            if (!producing && !draining) {
              draining = true;
              deadline = Math.min(deadline, performance.now() + DRAIN_AFTER_MS);
            }
            await sleep(5);
          }
        };
        const bound = warmupMs + durationMs + DRAIN_AFTER_MS + GRACE_MS + LONG_POLL_MS;
        await withTimeout(Promise.all([produce(), consume()]), bound, label);
        if (failure !== undefined) throw new Error(`e2e produce: ${errorMessage(failure)}`);
        return { sent, received: seen.size, duplicates, batches, latencies: summarize(latencies), acks: summarize(acks), elapsedMs: performance.now() - start };
      });
      const v = m.value;
      const notes = [
        `sent ${v.sent}, received ${v.received} (${v.sent - v.received} missing, ${v.duplicates} duplicates); first ${warmupCount} left out as warm-up`,
        `produce ack p50 ${v.acks.p50Ms.toFixed(2)} ms, p99 ${v.acks.p99Ms.toFixed(2)} ms; ${v.batches} batches handled, ${(v.received / Math.max(1, v.batches)).toFixed(1)} messages per batch`,
      ];
      return {
        rate: v.received / ((warmupMs + durationMs) / 1000),
        latency: { p50Ms: v.latencies.p50Ms, p99Ms: v.latencies.p99Ms, maxMs: v.latencies.maxMs, per: 'message, send→receive' },
        count: v.latencies.count,
        cpu: m.cpu,
        db: m.db,
        loop: m.loop,
        profile: m.profile,
        notes,
      };
    } finally {
      producerClient.close();
      await consumer.stop();
    }
  });
}
