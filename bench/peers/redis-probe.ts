/**
 * Reads Redis's persistence settings over a raw RESP connection. Kept independent of any Redis client
 * package so the BullMQ row can state its durability, and tell "Redis down" from "client missing",
 * even when the client is not installed.
 */
import { createConnection } from 'node:net';
import { SETUP_TIMEOUT_MS } from './common';

export const REDIS_HOST = '127.0.0.1'; // loopback only, by design
export const REDIS_PORT = 6379;

type Resp = string | number | null | Resp[];

/** Parses one RESP2 reply starting at `pos`; null when the buffer does not hold all of it yet. */
function parse(buf: Buffer, pos: number): { value: Resp; next: number } | null {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos] ?? 0);
  const line = buf.toString('utf8', pos + 1, eol);
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 };
    case ':':
      return { value: Number(line), next: eol + 2 };
    case '-':
      throw new Error(`Redis error: ${line}`);
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: eol + 2 };
      const end = eol + 2 + len;
      if (buf.length < end + 2) return null;
      return { value: buf.toString('utf8', eol + 2, end), next: end + 2 };
    }
    case '*': {
      const count = Number(line);
      const items: Resp[] = [];
      let next = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, next);
        if (item === null) return null;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type '${type}'`);
  }
}

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Sends one command and resolves with its reply; the socket is always closed afterwards. */
function command(args: string[]): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: REDIS_HOST, port: REDIS_PORT });
    let buf = Buffer.alloc(0);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(SETUP_TIMEOUT_MS, () => fail(new Error(`Redis at ${REDIS_HOST}:${REDIS_PORT} did not answer`)));
    socket.on('error', fail);
    socket.on('connect', () => socket.write(encode(args)));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const reply = parse(buf, 0);
        if (reply === null) return;
        socket.end();
        resolve(reply.value);
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** CONFIG GET of several parameters (Redis >= 7 accepts many at once) as a name -> value map. */
async function configGet(names: string[]): Promise<Map<string, string>> {
  const reply = await command(['CONFIG', 'GET', ...names]);
  const map = new Map<string, string>();
  if (!Array.isArray(reply)) return map;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    map.set(String(reply[i]), String(reply[i + 1]));
  }
  return map;
}

/** `INFO persistence` as a field -> value map. */
async function persistenceInfo(): Promise<Map<string, string>> {
  const reply = await command(['INFO', 'persistence']);
  const map = new Map<string, string>();
  for (const line of String(reply ?? '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

/**
 * Turns on the append-only file with an fsync per write (`appendfsync always`), so an acknowledged
 * job survives a crash as it does in the other peers, and waits until Redis has written the AOF
 * base it starts from. Returns a function that puts the server's own settings back.
 * This machine's Redis runs with no persistence at all; measuring BullMQ that way would compare a
 * broker that fsyncs every acknowledgement with one that keeps nothing.
 */
export async function makeRedisDurable(timeoutMs: number): Promise<() => Promise<void>> {
  const before = await configGet(['appendonly', 'appendfsync']);
  await command(['CONFIG', 'SET', 'appendfsync', 'always']);
  await command(['CONFIG', 'SET', 'appendonly', 'yes']);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await persistenceInfo();
    if (info.get('aof_enabled') === '1' && info.get('aof_rewrite_in_progress') === '0' && info.get('aof_rewrite_scheduled') === '0') break;
    if (Date.now() > deadline) throw new Error('Redis did not finish turning on its append-only file in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return async () => {
    await command(['CONFIG', 'SET', 'appendonly', before.get('appendonly') ?? 'no']);
    await command(['CONFIG', 'SET', 'appendfsync', before.get('appendfsync') ?? 'everysec']);
  };
}

/** One line saying what a Redis crash or restart would keep, from the server's live settings. */
export async function redisDurability(): Promise<string> {
  const cfg = await configGet(['appendonly', 'appendfsync', 'save']);
  const appendonly = cfg.get('appendonly') ?? '?';
  const save = cfg.get('save') ?? '?';
  const fsync = cfg.get('appendfsync') ?? '?';
  const tag = `appendonly=${appendonly}, save="${save}"`;
  if (appendonly === 'yes') {
    if (fsync === 'always') return `Redis AOF fsync per write (${tag}, appendfsync=always)`;
    if (fsync === 'everysec') return `Redis AOF fsync once a second (${tag}): a crash loses up to ~1 s of acked jobs`;
    return `Redis AOF flushed by the OS (${tag}, appendfsync=${fsync}): a crash loses recent acked jobs`;
  }
  if (save !== '') return `Redis RDB snapshots only (${tag}): a crash loses everything since the last snapshot`;
  return `Redis with no persistence (${tag}): nothing survives a restart`;
}
