/**
 * The child side of a forked benchmark server: tells run.ts its port, reports event-loop health on
 * request, CPU-profiles itself between two requests, and shuts down on 'stop' or when run.ts goes
 * away (the IPC channel closes), so a crashed run never leaves a server behind.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { isChildRequest, type ChildMessage, type ChildRequest, type ChildStats } from './child-protocol';

export interface AgentOptions {
  port: number;
  /** Anything run.ts should record about the child (e.g. the broker's effective config). */
  info: unknown;
  stop: () => Promise<void>;
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

export function serveBench(opts: AgentOptions): void {
  // 10 ms resolution: fine enough to see a stalled loop, cheap enough not to disturb it.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let lastElu = performance.eventLoopUtilization();
  let profiler: Session | undefined;
  let stopping: Promise<void> | undefined;

  const stats = (): ChildStats => {
    const elu = performance.eventLoopUtilization(lastElu);
    lastElu = performance.eventLoopUtilization();
    const ms = (ns: number): number => ns / 1e6;
    const result: ChildStats = {
      utilization: elu.utilization,
      delayP50Ms: ms(delay.percentile(50)),
      delayP99Ms: ms(delay.percentile(99)),
      delayMaxMs: ms(delay.max),
      rssBytes: process.memoryUsage.rss(),
    };
    delay.reset();
    return result;
  };

  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      delay.disable();
      if (profiler !== undefined) profiler.disconnect();
      await opts.stop();
    })());

  const handle = async (req: ChildRequest): Promise<unknown> => {
    switch (req.type) {
      case 'stats':
        return stats();
      case 'profile-start': {
        profiler ??= new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        // 1 ms sampling: ~1000 samples a second, enough to rank functions taking a few percent.
        await profiler.post('Profiler.setSamplingInterval', { interval: 1000 });
        await profiler.post('Profiler.start');
        return null;
      }
      case 'profile-stop': {
        if (profiler === undefined) throw new Error('profile-stop without profile-start');
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        profiler = undefined;
        writeFileSync(req.file, JSON.stringify(profile));
        return req.file;
      }
      case 'stop':
        await shutdown();
        return null;
    }
  };

  process.on('message', (raw: unknown) => {
    if (!isChildRequest(raw)) return;
    handle(raw).then(
      async (value) => {
        await send({ type: 'reply', id: raw.id, ok: true, value });
        if (raw.type === 'stop') process.exit(0);
      },
      async (err: unknown) => {
        await send({ type: 'reply', id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err) });
        if (raw.type === 'stop') process.exit(1);
      },
    );
  });
  // run.ts died or closed the channel: stop serving instead of lingering as an orphan.
  process.on('disconnect', () => {
    void shutdown().finally(() => process.exit(0));
  });
  void send({ type: 'ready', port: opts.port, info: opts.info });
}
