/**
 * Produce scenarios against the broker: closed-loop clients, each awaiting its own 201 before the
 * next request, one message or a batch of 100 per request. Same loop as the peers' (peers/load.ts).
 * The enqueue scenarios run the same loop through the client library: each caller awaits its own
 * message's `producer.enqueue`, and the client batches the callers' messages into requests.
 */
import { Producer } from '../client';
import { producePath } from './api';
import { BENCH_ADMIN_TOKEN, expectStatus, JsonClient } from './http-client';
import { measure, perStatement } from './measure';
import { makePayload, maxMessagesPerScenario } from './peers/common';
import { closedLoop } from './peers/load';
import type { ScenarioResult } from './results';
import { guarded, type ScenarioEnv } from './scenario';

export interface ProduceSpec {
  id: string;
  label: string;
  topic: string;
  clients: number;
  perRequest: number;
  /** Through the client library's `enqueue`, one message per call (perRequest must be 1). */
  viaEnqueue?: boolean;
}

/** The produce request body, encoded once: the load generator must not spend CPU re-encoding it. */
export function produceBody(messageBytes: number, perRequest: number): Buffer {
  const body = makePayload(messageBytes);
  return Buffer.from(JSON.stringify({ messages: Array.from({ length: perRequest }, () => ({ body })) }));
}

/** One closed-loop call: a request of `perRequest` messages, or one `enqueue`; and what closes it. */
function produceCall(env: ScenarioEnv, spec: ProduceSpec, port: number): { call: () => Promise<void>; close: () => Promise<void> } {
  if (spec.viaEnqueue) {
    const producer = new Producer({ brokers: [`http://127.0.0.1:${port}`], token: BENCH_ADMIN_TOKEN });
    const message = { body: makePayload(env.opts.messageBytes) };
    return {
      call: async () => {
        const stored = await producer.enqueue(spec.topic, message);
        if (stored.id === null) throw new Error(`${spec.label}: a message was scheduled, not stored`);
      },
      close: () => producer.close(),
    };
  }
  const client = new JsonClient(port, spec.clients);
  const path = producePath(spec.topic);
  const body = produceBody(env.opts.messageBytes, spec.perRequest);
  return {
    call: async () => expectStatus(await client.post(path, body), 201, spec.label),
    close: async () => client.close(),
  };
}

export function runProduce(env: ScenarioEnv, spec: ProduceSpec): Promise<ScenarioResult> {
  return guarded({ id: spec.id, label: spec.label, group: 'tablemq', unit: 'msgs/s' }, async () => {
    const broker = env.broker;
    if (broker === undefined) throw new Error('broker not running');
    const { call, close } = produceCall(env, spec, broker.port);
    const loop = (durationMs: number) =>
      closedLoop(
        {
          producers: spec.clients,
          msgsPerCall: spec.perRequest,
          durationMs,
          maxMessages: maxMessagesPerScenario(env.opts.messageBytes),
          call,
        },
        spec.label,
      );
    try {
      await loop(env.opts.warmupMs);
      const m = await measure(env.measureEnv, spec.id, broker, () => loop(env.opts.durationMs));
      const t = m.value;
      return {
        rate: t.msgsPerSec,
        latency: { p50Ms: t.p50Ms ?? 0, p99Ms: t.p99Ms ?? 0, per: spec.viaEnqueue ? 'enqueue call' : spec.perRequest === 1 ? 'request' : `request of ${spec.perRequest}` },
        count: t.messages,
        cpu: m.cpu,
        db: perStatement(m.db, t.messages),
        loop: m.loop,
        profile: m.profile,
      };
    } finally {
      await close();
    }
  });
}
