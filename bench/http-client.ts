/**
 * The load generator's HTTP client: undici's Pool (the engine under Node's own fetch), one
 * keep-alive connection per concurrent caller, no pipelining. On this machine it costs about 35 µs
 * of CPU per small request against node:http's ~55 µs (a side measurement at 16 clients against a
 * trivial server): CPU the load generator would otherwise take from the broker on two shared cores.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';

/**
 * The bench broker's admin token (its TABLEMQ_ADMIN_TOKEN): every request carries it, so the
 * figures include the token check, as production traffic would.
 */
export const BENCH_ADMIN_TOKEN = `tmq_bench_${randomBytes(32).toString('base64url')}`;
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };

export interface HttpAnswer {
  status: number;
  text: string;
}

// Loopback only, by design: the benchmark never sends traffic anywhere else.
const HOST = '127.0.0.1';

export class JsonClient {
  private readonly pool: Pool;

  constructor(
    port: number,
    sockets: number,
    private readonly timeoutMs = 30_000,
  ) {
    this.pool = new Pool(`http://${HOST}:${port}`, { connections: sockets, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  /** POSTs a body that is already JSON text (callers pre-encode bodies they send many times). */
  async post(path: string, body: Buffer): Promise<HttpAnswer> {
    const res = await this.pool.request({
      method: 'POST',
      path,
      body,
      headers: HEADERS,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  /** POSTs a value as JSON and returns the parsed answer, failing unless the status is `expected`. */
  async postJson(path: string, value: unknown, expected: number): Promise<unknown> {
    const answer = await this.post(path, Buffer.from(JSON.stringify(value)));
    if (answer.status !== expected) {
      throw new Error(`POST ${path}: ${answer.status} ${answer.text.slice(0, 300)}`);
    }
    return answer.text === '' ? null : (JSON.parse(answer.text) as unknown);
  }

  /** Closes every socket, idle or not, so the process can exit. */
  close(): void {
    void this.pool.destroy();
  }
}

/** Throws with the answer's start unless it has the expected status (bodies of errors are short). */
export function expectStatus(answer: HttpAnswer, expected: number, what: string): void {
  if (answer.status !== expected) throw new Error(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
}
