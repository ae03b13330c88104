/**
 * The express ceiling: the same load generator, the same single-message request, against a trivial
 * express 5 app in its own process (express-ceiling.ts). Its req/s is what HTTP + JSON parsing alone
 * allow on this machine, which bounds single-message produce from above.
 */
import { BenchChild } from './child';
import { expectStatus, JsonClient } from './http-client';
import { measure } from './measure';
import { maxMessagesPerScenario } from './peers/common';
import { closedLoop } from './peers/load';
import type { ScenarioResult } from './results';
import { guarded, progress, type ScenarioEnv } from './scenario';
import { producePath } from './api';
import { produceBody } from './tablemq-produce';

export interface CeilingRun {
  results: ScenarioResult[];
  peakRssMb?: number;
  error?: string;
}

function runOne(env: ScenarioEnv, child: BenchChild, clients: number): Promise<ScenarioResult> {
  const id = `ceiling.x${clients}`;
  const label = `express ceiling, 1 msg/req, ${clients} clients`;
  return guarded({ id, label, group: 'baseline', unit: 'req/s' }, async () => {
    const client = new JsonClient(child.port, clients);
    const body = produceBody(env.opts.messageBytes, 1);
    const path = producePath('bench');
    const loop = (durationMs: number) =>
      closedLoop(
        {
          producers: clients,
          msgsPerCall: 1,
          durationMs,
          maxMessages: maxMessagesPerScenario(env.opts.messageBytes),
          call: async () => expectStatus(await client.post(path, body), 201, label),
        },
        label,
      );
    try {
      await loop(env.opts.warmupMs);
      const m = await measure(env.measureEnv, id, child, () => loop(env.opts.durationMs));
      return {
        rate: m.value.msgsPerSec,
        latency: { p50Ms: m.value.p50Ms ?? 0, p99Ms: m.value.p99Ms ?? 0, per: 'request' },
        count: m.value.messages,
        cpu: m.cpu,
        loop: m.loop,
        profile: m.profile,
      };
    } finally {
      client.close();
    }
  });
}

export async function runCeiling(env: ScenarioEnv, clientCounts: readonly number[]): Promise<CeilingRun> {
  progress('starting the express ceiling process...');
  let child: BenchChild;
  try {
    child = await BenchChild.start({ script: 'bench/express-ceiling.ts', label: 'express ceiling', env: process.env, readyTimeoutMs: 30_000 });
  } catch (err) {
    return { results: [], error: err instanceof Error ? err.message : String(err) };
  }
  try {
    const results: ScenarioResult[] = [];
    for (const clients of clientCounts) results.push(await runOne(env, child, clients));
    return { results, peakRssMb: child.peakRssMb() };
  } finally {
    await child.stop();
  }
}
