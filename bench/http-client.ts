/**
 * The load generator's HTTP client: node:http with a keep-alive Agent sized to the concurrency.
 * (undici is not installed as a package here, and Node 20's global fetch costs noticeably more CPU
 * per request; on two shared cores every load-generator microsecond is taken from the broker.)
 */
import http from 'node:http';

export interface HttpAnswer {
  status: number;
  text: string;
}

// Loopback only, by design: the benchmark never sends traffic anywhere else.
const HOST = '127.0.0.1';

export class JsonClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly port: number,
    sockets: number,
    private readonly timeoutMs = 30_000,
  ) {
    // maxFreeSockets = sockets: a closed loop reuses every socket, none is closed and reopened between calls.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  /** POSTs a body that is already JSON text (callers pre-encode bodies they send many times). */
  post(path: string, body: Buffer): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: HOST,
          port: this.port,
          method: 'POST',
          path,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`POST ${path} got no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
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
    this.agent.destroy();
  }
}

/** Throws with the answer's start unless it has the expected status (bodies of errors are short). */
export function expectStatus(answer: HttpAnswer, expected: number, what: string): void {
  if (answer.status !== expected) throw new Error(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
}
