/**
 * run.ts's handle on a forked server process (the broker or the express ceiling): started with tsx,
 * as `npm run bench` itself is; its port arrives over IPC; its peak RSS is polled from /proc while it
 * runs; stop() asks it to shut down gracefully and kills it if it does not exit in time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { isChildMessage, type ChildRequest, type ChildStats } from './child-protocol';
import { processMemory } from './procfs';

export const REPO_ROOT = path.resolve(__dirname, '..');

/** A request without its id; spelled out per type because Omit over a union would merge the members. */
type Request = { type: 'stats' } | { type: 'profile-start' } | { type: 'profile-stop'; file: string } | { type: 'stop' };

const RSS_POLL_MS = 250;
const OUTPUT_LINES_KEPT = 40;

export interface StartOptions {
  /** Script path relative to the repo root. */
  script: string;
  label: string;
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
}

/** The last lines a child printed (for error messages), and how many were warnings or errors. */
class OutputTail {
  readonly lines: string[] = [];
  /** Log lines at level warn or error (or not JSON at all): a broker complaining mid-benchmark is worth reporting. */
  warnings = 0;
  /** A line cut in two by the pipe: its start waits here for the rest. */
  private partial = '';

  collect(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = (parts.pop() ?? '').slice(-10_000);
    for (const line of parts) {
      if (line.trim() === '') continue;
      if (/"level":"(warn|error)"/.test(line) || !line.startsWith('{')) this.warnings++;
      this.lines.push(line.slice(0, 500));
      if (this.lines.length > OUTPUT_LINES_KEPT) this.lines.shift();
    }
  }
}

export class BenchChild {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private peakKb = 0;
  private readonly poll: NodeJS.Timeout;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    private readonly tail: OutputTail,
    readonly label: string,
    readonly pid: number,
    readonly port: number,
    readonly info: unknown,
  ) {
    this.poll = setInterval(() => this.sampleRss(), RSS_POLL_MS);
    this.poll.unref();
    this.exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.on('message', (raw: unknown) => {
      if (!isChildMessage(raw) || raw.type !== 'reply') return;
      const waiter = this.waiting.get(raw.id);
      if (waiter === undefined) return;
      this.waiting.delete(raw.id);
      if (raw.ok) waiter.resolve(raw.value);
      else waiter.reject(new Error(`${label}: ${raw.error}`));
    });
    proc.once('exit', (code, signal) => {
      clearInterval(this.poll);
      for (const w of this.waiting.values()) w.reject(new Error(`${label} exited (code ${code}, signal ${signal})`));
      this.waiting.clear();
    });
  }

  static start(opts: StartOptions): Promise<BenchChild> {
    const proc = fork(path.join(REPO_ROOT, opts.script), [], {
      cwd: REPO_ROOT,
      env: opts.env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const tail = new OutputTail();
    // Always drained: a child blocked on a full stdout pipe would look like a slow broker.
    proc.stdout?.on('data', (chunk: Buffer) => tail.collect(chunk));
    proc.stderr?.on('data', (chunk: Buffer) => tail.collect(chunk));

    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`${opts.label} did not start: ${why}\n${tail.lines.join('\n')}`));
      };
      const timer = setTimeout(() => fail(`no 'ready' within ${opts.readyTimeoutMs} ms`), opts.readyTimeoutMs);
      proc.once('exit', (code, signal) => fail(`exited with code ${code}, signal ${signal}`));
      proc.once('error', (err) => fail(err.message));
      proc.on('message', (raw: unknown) => {
        if (!isChildMessage(raw) || raw.type !== 'ready') return;
        clearTimeout(timer);
        proc.removeAllListeners('exit');
        proc.removeAllListeners('error');
        proc.on('error', () => undefined); // later errors (e.g. IPC after exit) surface through requests
        if (proc.pid === undefined) {
          fail('no pid');
          return;
        }
        resolve(new BenchChild(proc, tail, opts.label, proc.pid, raw.port, raw.info));
      });
    });
  }

  private sampleRss(): void {
    const mem = processMemory(this.pid);
    if (mem !== undefined) this.peakKb = Math.max(this.peakKb, mem.peakRssKb, mem.rssKb);
  }

  /** Peak resident set size seen so far (VmHWM), in MiB. */
  peakRssMb(): number {
    this.sampleRss();
    return this.peakKb / 1024;
  }

  /** The last lines the child printed, for error messages. */
  output(): string {
    return this.tail.lines.join('\n');
  }

  /** Warning and error lines printed so far. */
  get warnings(): number {
    return this.tail.warnings;
  }

  request(req: Request, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    const message: ChildRequest = { ...req, id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.label}: '${req.type}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (!this.proc.connected) {
        this.waiting.delete(id);
        clearTimeout(timer);
        reject(new Error(`${this.label} is not running`));
        return;
      }
      this.proc.send(message);
    });
  }

  async stats(): Promise<ChildStats> {
    return (await this.request({ type: 'stats' }, 10_000)) as ChildStats; // shape fixed by child-agent.ts
  }

  /** Graceful stop, then SIGKILL after `timeoutMs`. Records the final peak RSS first. */
  async stop(timeoutMs = 20_000): Promise<void> {
    this.sampleRss();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      await this.request({ type: 'stop' }, timeoutMs).catch(() => undefined);
      const killed = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(killed);
    }
    clearInterval(this.poll);
    this.proc.stdout?.destroy();
    this.proc.stderr?.destroy();
  }
}
