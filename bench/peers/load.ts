/**
 * The two ways every peer is measured: closed-loop producers with per-call ack latency, and a
 * pull-based drain of a backlog. Both are bounded by time and by count.
 */
import { performance } from 'node:perf_hooks';
import { errorMessage, GRACE_MS, sleep, withTimeout } from './common';
import type { Throughput } from './types';
import { percentile } from '../stats';


export interface ClosedLoopSpec {
  /** Concurrent producers; each awaits its own call before issuing the next (closed loop). */
  producers: number;
  /** Messages carried by one call (1 for single produce, BATCH_SIZE for batches). */
  msgsPerCall: number;
  durationMs: number;
  maxMessages: number;
  /** One produce call, resolved when the peer has acknowledged it. */
  call: (producer: number) => Promise<void>;
}

/**
 * Closed-loop load: `producers` loops issue calls until the duration or the message cap is reached,
 * recording each call's ack latency. Throughput counts only acknowledged messages over the time until
 * the last in-flight call finished. The first failure stops every producer and is rethrown.
 */
export async function closedLoop(spec: ClosedLoopSpec, what: string): Promise<Throughput> {
  const maxCalls = Math.max(1, Math.floor(spec.maxMessages / spec.msgsPerCall));
  const latencies: number[] = [];
  let issued = 0;
  let failure: unknown;
  const start = performance.now();
  const deadline = start + spec.durationMs;

  const producer = async (id: number): Promise<void> => {
    while (failure === undefined && issued < maxCalls && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      try {
        await spec.call(id);
      } catch (err) {
        failure ??= err;
        return;
      }
      latencies.push(performance.now() - t0);
    }
  };

  // allSettled rather than all: a failing producer must not leave the others' rejections unhandled.
  const loops = Promise.allSettled(Array.from({ length: spec.producers }, (_, i) => producer(i)));
  await withTimeout(loops, spec.durationMs + GRACE_MS, what);
  const elapsedMs = performance.now() - start;
  if (failure !== undefined) throw new Error(`${what}: ${errorMessage(failure)}`);

  const sorted = Float64Array.from(latencies).sort();
  const messages = latencies.length * spec.msgsPerCall;
  return {
    msgsPerSec: messages / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    messages,
  };
}

export interface DrainSpec {
  durationMs: number;
  /** Backlog size: draining stops once this many messages have been consumed and acked. */
  target: number;
  /** One fetch + ack round; returns how many messages it acked (0 when nothing was ready yet). */
  step: () => Promise<number>;
  /** Pause after an empty step, so polling an empty queue does not spin. */
  idleMs: number;
}

/** Pull-based consume loop for peers whose client fetches (pg-boss, PgQ); bounded by time and by the backlog. */
export async function drain(spec: DrainSpec, what: string): Promise<Throughput> {
  const start = performance.now();
  const deadline = start + spec.durationMs;
  let consumed = 0;
  let lastAckAt = start;
  const loop = async (): Promise<void> => {
    while (consumed < spec.target && performance.now() < deadline) {
      const n = await spec.step();
      if (n > 0) {
        consumed += n;
        lastAckAt = performance.now();
      } else {
        await sleep(spec.idleMs);
      }
    }
  };
  await withTimeout(loop(), spec.durationMs + GRACE_MS, what);
  // A drained backlog is timed to its last ack; an undrained one to the deadline (or the last step's end).
  const end = consumed >= spec.target ? lastAckAt : performance.now();
  return { msgsPerSec: consumed / (Math.max(1, end - start) / 1000), messages: consumed };
}
