import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { startBroker, type Broker } from '../../broker/server';
import { freshDatabase, sqlClient } from './db';

process.env.TABLEMQ_LOG_SILENT ??= '1';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect answers field by field, and a typed client would only restate the schemas
export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * The admin token of every test broker (auth is on in tests, as by default): testConfig sets it
 * as TABLEMQ_ADMIN_TOKEN, and apiClient sends it unless told otherwise.
 */
export const TEST_ADMIN_TOKEN = `tmq_test_${randomBytes(24).toString('base64url')}`;

/** A small JSON client for a broker's HTTP API; `token` null sends no Authorization header. */
export function apiClient(baseUrl: string, token: string | null = TEST_ADMIN_TOKEN) {
  const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const init: RequestInit = { method, headers: { ...auth, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: leave the text for the assertion to show
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
  return {
    baseUrl,
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    patch: (path: string, body?: unknown) => call('PATCH', path, body),
    delete: (path: string, body?: unknown) => call('DELETE', path, body),
    call,
    /** The same client with another token (null: none). */
    as: (other: string | null) => apiClient(baseUrl, other),
  };
}

export type Api = ReturnType<typeof apiClient>;

/** Config for a test broker: ephemeral port, small pools, a given metadata DB. */
export function testConfig(mysqlUrl: string, overrides: Partial<Config> = {}): Config {
  return loadConfig({}, { mysqlUrl, port: 0, jobsPort: 0, host: '127.0.0.1', metadataPoolSize: 4, nodePoolSize: 6, logLevel: 'error', adminToken: TEST_ADMIN_TOKEN, ...overrides });
}

/** A broker on an ephemeral port against its own fresh database; `close()` stops it and drops the database. */
export async function startTestBroker(label: string, overrides: Partial<Config> = {}) {
  const database = await freshDatabase(label);
  const config = testConfig(database.url, overrides);
  const broker: Broker = await startBroker(config, createLogger('error', 'test-broker'));
  const api = apiClient(`http://127.0.0.1:${broker.port}`);
  const sql = await sqlClient(database.name);
  return {
    broker,
    api,
    sql,
    database,
    config,
    async close() {
      await broker.stop();
      await sql.end();
      await database.drop();
    },
  };
}

export type TestBroker = Awaited<ReturnType<typeof startTestBroker>>;

let topicCounter = 0;
/** A unique topic name within a test file. */
export function uniqueName(prefix: string): string {
  topicCounter += 1;
  return `${prefix}-${topicCounter}`;
}

export interface Grant {
  permission: 'admin' | 'produce' | 'consume';
  topic?: string;
  group?: string;
}

/** Creates an app with these grants (through `admin`, an admin's client) and returns a client that carries its token. */
export async function createApp(admin: Api, name: string, grants: Grant[] = []) {
  const res = await admin.post('/api/v1/admin/apps', { name, grants });
  if (res.status !== 201) throw new Error(`create app ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const token = res.body.token as string;
  return { name, token, tokenId: res.body.tokenId as number, api: admin.as(token) };
}

export async function createTopic(api: Api, name: string, queues: number, extra: Record<string, unknown> = {}) {
  const res = await api.post('/api/v1/admin/topics', { name, queues, ...extra });
  if (res.status !== 201) throw new Error(`create topic ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: number; name: string; queues: { id: number; table: string; dbNode: string }[] };
}

export async function produce(api: Api, topic: string, messages: unknown[]) {
  const res = await api.post(`/api/v1/topics/${topic}/messages`, { messages });
  if (res.status !== 201) throw new Error(`produce to ${topic}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.results as { queueId: number; id: number }[];
}

/**
 * Produces messages as `requests` requests of consecutive messages, one after another. Unkeyed
 * messages of one request go to one queue and the next request to the next queue, so on a fresh
 * topic with n queues, n requests put one request's share in each queue.
 */
export async function produceSpread(api: Api, topic: string, messages: unknown[], requests: number) {
  const size = Math.ceil(messages.length / requests);
  const results: { queueId: number; id: number }[] = [];
  for (let i = 0; i < messages.length; i += size) results.push(...(await produce(api, topic, messages.slice(i, i + size))));
  return results;
}

export interface Pulled {
  generation: number;
  messages: { topic: string; queueId: number; id: number; body: unknown; key: string | null; tag: string | null; retryCount: number; createdAt: string }[];
  positions: { queueId: number; offset: number }[];
}

/** A consumer of the HTTP protocol, as a test would script it. */
export async function joinGroup(api: Api, group: string, name: string) {
  const res = await api.post(`/api/v1/groups/${group}/consumers`, { name });
  if (res.status !== 201) throw new Error(`register ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const consumerId = res.body.consumerId as number;
  const base = `/api/v1/groups/${group}/consumers/${consumerId}`;
  return {
    consumerId,
    registered: res.body,
    pull: (body: Record<string, unknown> = {}) => api.post(`${base}/pull`, body),
    async pulled(body: Record<string, unknown> = {}): Promise<Pulled> {
      const r = await api.post(`${base}/pull`, body);
      if (r.status !== 200) throw new Error(`pull: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as Pulled;
    },
    commit: (offsets: { queueId: number; offset: number }[], generation?: number) => api.post(`${base}/commit`, { offsets, ...(generation === undefined ? {} : { generation }) }),
    heartbeat: () => api.post(`${base}/heartbeat`),
    leave: () => api.delete(base),
    async queues(): Promise<number[]> {
      const r = await api.post(`${base}/heartbeat`);
      if (r.status !== 200) throw new Error(`heartbeat: ${r.status} ${JSON.stringify(r.body)}`);
      return (r.body.assignments as { queueId: number }[]).map((a) => a.queueId).sort((a, b) => a - b);
    },
  };
}

export type TestConsumer = Awaited<ReturnType<typeof joinGroup>>;

export async function createGroup(api: Api, name: string, subscribeTo: string[] = [], start: 'latest' | 'earliest' = 'earliest') {
  const res = await api.post('/api/v1/admin/groups', { name });
  if (res.status !== 201) throw new Error(`create group ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  for (const topic of subscribeTo) {
    const sub = await api.post(`/api/v1/admin/groups/${name}/subscriptions`, { topic, start });
    if (sub.status !== 201) throw new Error(`subscribe ${name} to ${topic}: ${sub.status} ${JSON.stringify(sub.body)}`);
  }
}

/** Pulls and commits until `expected` messages arrived or `timeoutMs` passed; returns them in arrival order. */
export async function drain(consumer: TestConsumer, expected: number, timeoutMs = 20_000, max = 500) {
  const got: Pulled['messages'] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < expected && Date.now() < deadline) {
    const batch = await consumer.pulled({ max, waitMs: 200 });
    got.push(...batch.messages);
    if (batch.positions.length > 0) {
      const c = await consumer.commit(batch.positions, batch.generation);
      if (c.status !== 200) throw new Error(`commit: ${c.status} ${JSON.stringify(c.body)}`);
    }
  }
  return got;
}
