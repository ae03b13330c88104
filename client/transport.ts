import { BrokersUnavailableError, errorFromAnswer, TablemqError } from './errors';

export interface TransportOptions {
  /** Base URLs of the brokers, e.g. `http://localhost:8080`. Any broker serves any call. */
  brokers: string[];
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
  /** Longest one attempt may take (a long-poll gets its wait on top). Default 30 s. */
  requestTimeoutMs?: number;
  /** How long a call keeps retrying over the brokers before it fails. Default 30 s; 0 = one attempt. */
  retryForMs?: number;
  /** First and longest backoff between attempts on one broker. Default 100 ms and 5 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** The fetch to use (instrumentation, a custom undici dispatcher). Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Extra time for this call's attempts beyond requestTimeoutMs (a long-poll's wait). */
  extraTimeoutMs?: number;
}

/** 502/503/504: the broker (or a proxy in front of it) could not serve now; another may. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** Seconds or an HTTP date, as `Retry-After` allows; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with a little jitter, so clients that failed together do not retry in step. */
function backoff(failures: number, min: number, max: number): number {
  const base = Math.min(max, min * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.75 + Math.random() * 0.25));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort ends with the reason its caller gave
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort ends with the reason its caller gave
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

interface BrokerState {
  url: string;
  /** Consecutive failed attempts. */
  failures: number;
  /** Not tried again before this time (backoff, or the broker's Retry-After). */
  notBefore: number;
}

/** One failed attempt worth retrying elsewhere. */
class RetryableFailure {
  constructor(
    readonly cause: unknown,
    readonly retryAfterMs: number | undefined,
  ) {}
}

/**
 * JSON over HTTP to a set of brokers. A call sticks to the broker that last answered; a network
 * error, a timeout or a 502/503/504 puts that broker on hold (backoff, at least its Retry-After)
 * and the call moves on to the broker that is free soonest, until `retryForMs` runs out. Any
 * other answer, 4xx included, is final and never retried.
 */
export class Transport {
  private readonly brokers: BrokerState[];
  private current = 0;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly requestTimeoutMs: number;
  private readonly retryForMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(options: TransportOptions) {
    if (!Array.isArray(options.brokers) || options.brokers.length === 0) throw new TablemqError('INVALID_OPTIONS', 'brokers must list at least one URL');
    this.brokers = options.brokers.map((url) => ({ url: url.replace(/\/+$/, ''), failures: 0, notBefore: 0 }));
    this.fetchFn = options.fetch ?? fetch;
    this.headers = { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.retryForMs = options.retryForMs ?? 30_000;
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  /** Sends `body` (JSON text) and returns the parsed answer; throws a typed error otherwise. */
  async call<T>(method: string, path: string, body: string | undefined, options: CallOptions = {}): Promise<T> {
    const deadline = Date.now() + this.retryForMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const index = this.pick();
      const broker = this.brokers[index]!;
      const wait = broker.notBefore - Date.now();
      if (wait > 0) await sleep(wait, options.signal);
      try {
        const answer = await this.attempt<T>(broker.url, method, path, body, options);
        broker.failures = 0;
        this.current = index;
        return answer;
      } catch (err) {
        if (!(err instanceof RetryableFailure)) throw err;
        broker.failures += 1;
        broker.notBefore = Date.now() + Math.max(err.retryAfterMs ?? 0, backoff(broker.failures, this.minBackoffMs, this.maxBackoffMs));
        this.current = (index + 1) % this.brokers.length;
        const next = this.brokers[this.pick()]!;
        if (Math.max(next.notBefore, Date.now()) > deadline) {
          throw new BrokersUnavailableError(`${method} ${path} failed on every broker for ${this.retryForMs} ms`, err.cause);
        }
      }
    }
  }

  /** The current broker if it is free now, else the one free soonest (ties: the next in the list). */
  private pick(): number {
    const now = Date.now();
    let best = this.current;
    for (let k = 0; k < this.brokers.length; k++) {
      const i = (this.current + k) % this.brokers.length;
      if (this.brokers[i]!.notBefore <= now) return i;
      if (this.brokers[i]!.notBefore < this.brokers[best]!.notBefore) best = i;
    }
    return best;
  }

  private async attempt<T>(base: string, method: string, path: string, body: string | undefined, options: CallOptions): Promise<T> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs + (options.extraTimeoutMs ?? 0));
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(base + path, { method, headers: this.headers, body, signal });
      text = await res.text();
    } catch (err) {
      // The caller's own abort is final; a timeout or a broken connection is worth another broker.
      if (options.signal?.aborted) throw options.signal.reason;
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- an abort ends with the reason its caller gave
      throw new RetryableFailure(err, undefined);
    }
    const parsed = parseJson(text);
    if (res.ok) return parsed as T;
    if (RETRYABLE_STATUS.has(res.status)) {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- an abort ends with the reason its caller gave
      throw new RetryableFailure(errorFromAnswer(res.status, parsed, base), retryAfterMs(res.headers.get('retry-after')));
    }
    throw errorFromAnswer(res.status, parsed, base);
  }
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
