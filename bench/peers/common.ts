/**
 * Settings and plumbing shared by every peer, so all peers run under the same rules:
 * same concurrency, same body, same bounds, same error and cleanup handling.
 */
import type { PeerResult } from './types';

export const SINGLE_PRODUCERS = 16;
export const BATCH_PRODUCERS = 4;
export const BATCH_SIZE = 100;

/** Extra time a scenario may take past its duration (in-flight calls, flushes) before it is declared hung. */
export const GRACE_MS = 30_000;

/** Timeout for connecting and setting up a peer, so a dead service fails fast instead of hanging the run. */
export const SETUP_TIMEOUT_MS = 15_000;

/**
 * Count bound for one produce scenario, on top of the time bound: a long duration against a fast
 * peer must not pile up more than ~512 MiB of bodies (Redis keeps them all in RAM) or 500k messages.
 */
export function maxMessagesPerScenario(messageBytes: number): number {
  return Math.max(BATCH_SIZE, Math.min(500_000, Math.floor((512 * 1024 * 1024) / Math.max(1, messageBytes))));
}

/** Message body as an object whose JSON text is exactly `bytes` long (at least 10, the size of `{"pad":""}`). */
export function makePayload(bytes: number): { pad: string } {
  const overhead = JSON.stringify({ pad: '' }).length;
  return { pad: 'x'.repeat(Math.max(0, bytes - overhead)) };
}

/** The same body as JSON text, for peers that take strings or buffers. */
export function makeBody(bytes: number): string {
  return JSON.stringify(makePayload(bytes));
}

/**
 * What a consumer does before it can use a message: decode its JSON body. tablemq's pull answer is
 * JSON (bodies included) and BullMQ and pg-boss hand out decoded data, so their consumers pay for
 * it; peers whose clients hand out text or bytes (PgQ, RabbitMQ) call this for each message, so
 * every consume figure includes it.
 */
export function decodeBody(text: string): unknown {
  return JSON.parse(text);
}

/** `arr[i]`, failing loudly instead of yielding undefined (noUncheckedIndexedAccess). */
export function at<T>(arr: readonly T[], i: number): T {
  const item = arr[i];
  if (item === undefined) throw new Error(`index ${i} out of range (length ${arr.length})`);
  return item;
}

/**
 * Opens a pool's connections before measuring, by running `n` overlapping slow queries: otherwise the
 * first calls of a scenario would pay for connection setup and land in its latency tail.
 */
export async function warmPool(n: number, query: () => Promise<unknown>): Promise<void> {
  await withTimeout(Promise.all(Array.from({ length: n }, query)), SETUP_TIMEOUT_MS, 'opening pool connections');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with `what timed out` after `ms`; the timer is cleared either way so it never holds the process open. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Readable one-line message for anything thrown, including the AggregateError of a refused dual-stack connect. */
export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map(errorMessage).join('; ');
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** `await import()` that turns "package missing" into a message saying what to install. */
export async function importPackage<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // Only when the package itself is missing: a missing dependency of it deserves its own message.
    const isMissing = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
    if (isMissing && errorMessage(err).includes(`'${name}'`)) {
      throw new Error(`npm package '${name}' is not installed (npm run bench:install)`, { cause: err });
    }
    throw err;
  }
}

/**
 * Teardown steps, run newest first. A failing step is recorded in the result rather than thrown,
 * so it can neither hide the benchmark's own error nor skip the remaining steps (and leak a connection).
 */
export class Cleanup {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];

  defer(what: string, fn: () => Promise<unknown>): void {
    this.steps.push({ what, fn });
  }

  async run(result: PeerResult): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await withTimeout(step.fn(), SETUP_TIMEOUT_MS, step.what);
      } catch (err) {
        const msg = `cleanup (${step.what}) failed: ${errorMessage(err)}`;
        result.error = result.error === undefined ? msg : `${result.error}; ${msg}`;
      }
    }
  }
}

/**
 * Runs a peer's body, recording each scenario in `result` as it completes; anything thrown becomes
 * `result.error`, so a failing peer still reports the scenarios it finished and never throws.
 * Cleanup always runs, after the body, whatever happened.
 */
export async function guardPeer(
  result: PeerResult,
  body: (result: PeerResult, cleanup: Cleanup) => Promise<void>,
): Promise<PeerResult> {
  const cleanup = new Cleanup();
  try {
    await body(result, cleanup);
  } catch (err) {
    result.error = errorMessage(err);
  }
  await cleanup.run(result);
  return result;
}
