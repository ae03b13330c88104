/**
 * Cleanup steps for run.ts, newest first, each bounded in time. A failing step is reported, never
 * thrown: it must not skip the steps after it (and leave a process or a database behind).
 */
import { errorMessage, withTimeout } from './peers/common';

export class Teardown {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];

  defer(what: string, fn: () => Promise<unknown>): void {
    this.steps.push({ what, fn });
  }

  /** Runs (and forgets) every step; returns the failures. Safe to call twice. */
  async run(): Promise<string[]> {
    const failures: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await withTimeout(step.fn(), 30_000, step.what);
      } catch (err) {
        failures.push(`teardown (${step.what}): ${errorMessage(err)}`);
      }
    }
    return failures;
  }
}
