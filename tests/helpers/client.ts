import { afterEach } from 'node:test';

/**
 * Registers an afterEach hook that stops what a test started (client consumers, child processes),
 * even when the test fails, so nothing keeps the test process alive. Returns `track`, which
 * registers one thing to stop and returns it.
 */
export function stopAfterEach(): <C extends { stop(): Promise<void> }>(running: C) => C {
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });
  return (c) => {
    running.push(c);
    return c;
  };
}
