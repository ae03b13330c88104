/**
 * The scale scenario (`npm run bench -- --scale`, not part of the suite): PMQ's production shape on
 * one machine. One db node with spare queue tables, many topics, many groups, hundreds of consumers
 * over two brokers. Reports rebalance latency for joins and leaves, the time until every consumer
 * owns a balanced share, broker and MariaDB CPU with everyone waiting and under a steady produce
 * rate, the metadata refresh's cost, end-to-end latency, broker RSS and the admin lag call's time.
 *
 * Sizes come from ScaleSize; `--quick` runs a reduced size that fits a busy shared machine.
 */
import { Catalog } from '../broker/catalog';
import { parseMysqlUrl } from '../shared/config';
import { createMetadataDb } from '../shared/db/metadata-db';
import { createLogger } from '../shared/logger';
import { BenchChild } from './child';
import { BENCH_ADMIN_TOKEN, JsonClient, expectStatus, type HttpAnswer } from './http-client';
import { mysqlUrl, type AdminConnection } from './mariadb';
import { processCpuSeconds } from './procfs';
import { progress } from './scenario';
import { brokerEnv } from './suite';
import { summarize, type Summary } from './stats';

export interface ScaleSize {
  /** Spare queue tables made before any topic (the topics' queues come from them). */
  spares: number;
  topics: number;
  queuesPerTopic: number;
  groups: number;
  consumers: number;
  /** Steady produce rate spread over all topics, messages per second. */
  rate: number;
  /** Each measured phase (idle, steady load). */
  phaseMs: number;
  /** Consumers that leave one after another (leave latency). */
  leavers: number;
}

export const FULL_SCALE: ScaleSize = { spares: 1000, topics: 200, queuesPerTopic: 5, groups: 20, consumers: 500, rate: 2000, phaseMs: 10_000, leavers: 50 };
export const QUICK_SCALE: ScaleSize = { spares: 100, topics: 20, queuesPerTopic: 5, groups: 4, consumers: 50, rate: 200, phaseMs: 3000, leavers: 10 };

export interface ScaleReport {
  size: ScaleSize;
  setup: { sparesMs: number; topicsMs: number; subscriptionsMs: number };
  join: Summary & { balancedAfterMs: number; balanced: boolean; minOwned: number; maxOwned: number };
  leave: Summary;
  idle: PhaseCost;
  steady: PhaseCost & { delivered: number; endToEnd: Summary };
  metadataRefreshMs: Summary;
  lagAllQueuesMs: Summary & { queues: number };
  brokerPeakRssMb: number[];
}

interface PhaseCost {
  brokerCores: number[];
  mariadbCores: number;
  statementsPerSecond: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LAG_GROUP = 'scale-all';
/** Consumers of the group that reads every topic (its lag call covers every queue). */
const LAG_GROUP_CONSUMERS = 4;

async function questions(admin: AdminConnection): Promise<number> {
  const [rows] = await admin.query("SHOW GLOBAL STATUS LIKE 'Questions'");
  return Number((rows as { Value: string }[])[0]?.Value ?? 0);
}

/** CPU cores the brokers and MariaDB used, and statements per second, while `during` runs. */
async function phaseCost(admin: AdminConnection, brokers: readonly BenchChild[], dbPid: number | undefined, ms: number): Promise<PhaseCost> {
  const cpu = () => [...brokers.map((b) => processCpuSeconds(b.pid) ?? 0), dbPid === undefined ? 0 : (processCpuSeconds(dbPid) ?? 0)];
  const q0 = await questions(admin);
  const before = cpu();
  const began = Date.now();
  await sleep(ms);
  const after = cpu();
  const seconds = (Date.now() - began) / 1000;
  const q1 = await questions(admin);
  const cores = after.map((v, i) => (v - (before[i] ?? 0)) / seconds);
  return { brokerCores: cores.slice(0, brokers.length), mariadbCores: cores[brokers.length] ?? 0, statementsPerSecond: (q1 - q0) / seconds };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

interface Member {
  group: string;
  name: string;
  client: JsonClient;
  /** The port of the broker the consumer talks to. */
  port: number;
  base: string;
}

/** A GET or DELETE (admin and leave calls: few, not worth a pool of their own). */
async function call(port: number, method: 'GET' | 'DELETE', path: string): Promise<HttpAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
  return { status: res.status, text: await res.text() };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

export async function runScale(size: ScaleSize, admin: AdminConnection, database: string, dbPid: number | undefined): Promise<ScaleReport> {
  const env = brokerEnv(database); // one for both: they share the secret key as well as the database
  const brokers: BenchChild[] = [];
  const clients: JsonClient[] = [];
  try {
    progress('scale: starting two brokers...');
    brokers.push(await BenchChild.start({ script: 'bench/broker-process.ts', label: 'broker-1', env, readyTimeoutMs: 60_000 }));
    brokers.push(await BenchChild.start({ script: 'bench/broker-process.ts', label: 'broker-2', env, readyTimeoutMs: 60_000 }));
    // One socket per consumer: every consumer keeps a long-poll open.
    const perBroker = Math.ceil((size.consumers + LAG_GROUP_CONSUMERS) / brokers.length) + 8;
    for (const b of brokers) clients.push(new JsonClient(b.port, perBroker, 60_000));
    const admin1 = clients[0]!;

    progress(`scale: ${size.spares} spare tables, ${size.topics} topics of ${size.queuesPerTopic}, ${size.groups} groups...`);
    const sparesMs = await timed(async () => {
      for (let left = size.spares; left > 0; left -= 256) await admin1.postJson('/api/v1/admin/db-nodes/default/queues', { count: Math.min(256, left) }, 201);
    });
    const topics = Array.from({ length: size.topics }, (_, i) => `scale-t${i}`);
    const topicsMs = await timed(() => inParallel(topics, 4, async (name) => void (await admin1.postJson('/api/v1/admin/topics', { name, queues: size.queuesPerTopic }, 201))));
    const groups = Array.from({ length: size.groups }, (_, i) => `scale-g${i}`);
    const subscriptionsMs = await timed(async () => {
      await inParallel([...groups, LAG_GROUP], 4, async (group) => {
        await admin1.postJson('/api/v1/admin/groups', { name: group }, 201);
        const own = group === LAG_GROUP ? topics : topics.filter((_, t) => t % size.groups === groups.indexOf(group));
        for (const topic of own) await admin1.postJson(`/api/v1/admin/groups/${group}/subscriptions`, { topic, start: 'latest' }, 201);
      });
    });

    progress(`scale: ${size.consumers} consumers joining over ${brokers.length} brokers...`);
    const wanted = Array.from({ length: size.consumers }, (_, i) => ({ group: groups[i % size.groups]!, name: `c${i}` }));
    for (let i = 0; i < LAG_GROUP_CONSUMERS; i++) wanted.push({ group: LAG_GROUP, name: `lag${i}` });
    const members: Member[] = [];
    const joinMs: number[] = [];
    const joinStart = Date.now();
    await inParallel(wanted, 8, async ({ group, name }, i) => {
      const client = clients[i % clients.length]!;
      const port = brokers[i % brokers.length]!.port;
      const t0 = performance.now();
      const body = (await client.postJson(`/api/v1/groups/${group}/consumers`, { name }, 201)) as { consumerId: number };
      joinMs.push(performance.now() - t0);
      members.push({ group, name, client, port, base: `/api/v1/groups/${group}/consumers/${body.consumerId}` });
    });
    const balance = await checkBalance(members);
    const balancedAfterMs = Date.now() - joinStart;

    // Every consumer long-polls in a loop, commits what it gets and notes end-to-end latency.
    let running = true;
    let delivered = 0;
    const endToEnd: number[] = [];
    const loops = members.map(async (m) => {
      while (running) {
        const answer = await m.client.post(`${m.base}/pull`, Buffer.from('{"max":100,"waitMs":5000}'));
        if (answer.status === 404) break; // left
        if (answer.status !== 200) {
          await sleep(100);
          continue;
        }
        const pulled = JSON.parse(answer.text) as { generation: number; messages: { body: { sentAt?: number } }[]; positions: unknown[] };
        const now = Date.now();
        for (const msg of pulled.messages) if (typeof msg.body.sentAt === 'number') endToEnd.push(now - msg.body.sentAt);
        delivered += pulled.messages.length;
        if (pulled.messages.length > 0) await m.client.post(`${m.base}/commit`, Buffer.from(JSON.stringify({ offsets: pulled.positions, generation: pulled.generation })));
      }
    });

    progress('scale: idle (everyone waiting)...');
    await sleep(1000);
    const idle = await phaseCost(admin, brokers, dbPid, size.phaseMs);

    progress(`scale: steady ${size.rate} msgs/s over ${size.topics} topics...`);
    const producing = produceSteadily(clients, topics, size.rate);
    await sleep(1000);
    endToEnd.length = 0;
    delivered = 0;
    const steadyCost = await phaseCost(admin, brokers, dbPid, size.phaseMs);
    const steady = { ...steadyCost, delivered, endToEnd: summarize(endToEnd) };
    await producing.stop();

    progress('scale: admin lag of the group reading every topic, metadata refresh...');
    const lagMs: number[] = [];
    let lagQueues = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const answer = await call(brokers[0]!.port, 'GET', `/api/v1/admin/groups/${LAG_GROUP}/lag`);
      lagMs.push(performance.now() - t0);
      expectStatus(answer, 200, 'lag');
      lagQueues = (JSON.parse(answer.text) as { queues?: unknown[] }).queues?.length ?? 0;
    }
    const metadataRefreshMs = summarize(await catalogReloadTimes(database, 5));

    progress(`scale: ${size.leavers} consumers leaving one after another...`);
    const leaveMs: number[] = [];
    for (const m of members.filter((x) => x.group !== LAG_GROUP).slice(0, size.leavers)) {
      const t0 = performance.now();
      const answer = await call(m.port, 'DELETE', m.base);
      expectStatus(answer, 200, `leave ${m.name}`);
      leaveMs.push(performance.now() - t0);
    }

    running = false;
    await inParallel(members, 8, async (m) => void (await call(m.port, 'DELETE', m.base).catch(() => undefined)));
    await Promise.allSettled(loops);
    return {
      size,
      setup: { sparesMs, topicsMs, subscriptionsMs },
      join: { ...summarize(joinMs), balancedAfterMs, ...balance },
      leave: summarize(leaveMs),
      idle,
      steady,
      metadataRefreshMs,
      lagAllQueuesMs: { ...summarize(lagMs), queues: lagQueues },
      brokerPeakRssMb: brokers.map((b) => b.peakRssMb()),
    };
  } finally {
    for (const c of clients) c.close();
    for (const b of brokers) await b.stop().catch(() => undefined);
  }
}

/** Queue counts per consumer after the joins, by heartbeat: each group's members within floor/ceil of its share? */
async function checkBalance(members: readonly Member[]): Promise<{ balanced: boolean; minOwned: number; maxOwned: number }> {
  const owned = new Map<string, number[]>();
  await inParallel(members, 16, async (m) => {
    const answer = await m.client.post(`${m.base}/heartbeat`, Buffer.from('{}'));
    expectStatus(answer, 200, `heartbeat ${m.name}`);
    const count = (JSON.parse(answer.text) as { assignments: unknown[] }).assignments.length;
    owned.set(m.group, [...(owned.get(m.group) ?? []), count]);
  });
  let balanced = true;
  let minOwned = Infinity;
  let maxOwned = 0;
  for (const counts of owned.values()) {
    const lo = Math.min(...counts);
    const hi = Math.max(...counts);
    if (hi - lo > 1) balanced = false;
    minOwned = Math.min(minOwned, lo);
    maxOwned = Math.max(maxOwned, hi);
  }
  return { balanced, minOwned, maxOwned };
}

/** What one metadata refresh costs: the catalog's own reload, timed in this process against the bench database. */
async function catalogReloadTimes(database: string, times: number): Promise<number[]> {
  const db = createMetadataDb(parseMysqlUrl(mysqlUrl(database)), 2);
  try {
    const catalog = new Catalog(db, createLogger('error', 'bench-catalog'), 60_000);
    const out: number[] = [];
    for (let i = 0; i < times; i++) out.push(await timed(() => catalog.reload()));
    return out;
  } finally {
    await db.destroy();
  }
}

/** Produces `rate` messages a second, round-robin over the topics, 10 per request, from 20 ticks a second. */
function produceSteadily(clients: readonly JsonClient[], topics: readonly string[], rate: number): { stop(): Promise<void> } {
  const perTick = rate / 20;
  const perRequest = 10;
  let owed = 0;
  let topic = 0;
  const inFlight = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    owed += perTick;
    while (owed >= perRequest) {
      owed -= perRequest;
      const name = topics[topic++ % topics.length]!;
      const body = Buffer.from(JSON.stringify({ messages: Array.from({ length: perRequest }, () => ({ body: { sentAt: Date.now() } })) }));
      const p = clients[topic % clients.length]!.post(`/api/v1/topics/${name}/messages`, body).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 50);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Prints the report as a table of the targets. */
export function formatScale(r: ScaleReport): string {
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const cores = (v: number) => v.toFixed(3);
  const s = r.size;
  const rows: [string, string, string][] = [
    ['size', `${s.topics} topics x ${s.queuesPerTopic} queues, ${s.groups} groups (+1 reading all), ${s.consumers} consumers, 2 brokers`, ''],
    ['spares / topics / subscriptions', `${ms(r.setup.sparesMs)} / ${ms(r.setup.topicsMs)} / ${ms(r.setup.subscriptionsMs)}`, ''],
    ['join (register + rebalance) p50 / p99', `${ms(r.join.p50Ms)} / ${ms(r.join.p99Ms)}`, '< 200 ms p99'],
    ['all joined and balanced after', `${ms(r.join.balancedAfterMs)} (${r.join.balanced ? 'balanced' : 'NOT balanced'}: ${r.join.minOwned}-${r.join.maxOwned} queues each)`, ''],
    ['leave (+ rebalance) p50 / p99', `${ms(r.leave.p50Ms)} / ${ms(r.leave.p99Ms)}`, '< 200 ms p99'],
    ['idle: MariaDB cores, statements/s', `${cores(r.idle.mariadbCores)}, ${r.idle.statementsPerSecond.toFixed(0)}/s`, '< 0.05 cores'],
    ['idle: broker cores', r.idle.brokerCores.map(cores).join(' + '), ''],
    [`steady ${s.rate} msgs/s: MariaDB cores, statements/s`, `${cores(r.steady.mariadbCores)}, ${r.steady.statementsPerSecond.toFixed(0)}/s`, ''],
    ['steady: broker cores', r.steady.brokerCores.map(cores).join(' + '), ''],
    ['steady: delivered, end-to-end p50 / p99', `${r.steady.delivered}, ${ms(r.steady.endToEnd.p50Ms)} / ${ms(r.steady.endToEnd.p99Ms)}`, ''],
    ['metadata refresh (one catalog reload) p50', ms(r.metadataRefreshMs.p50Ms), ''],
    [`admin lag of ${r.lagAllQueuesMs.queues} queues p50`, ms(r.lagAllQueuesMs.p50Ms), '< 1 s'],
    ['broker peak RSS', r.brokerPeakRssMb.map((v) => `${v.toFixed(0)} MB`).join(' + '), '< 300 MB'],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`).join('\n');
}
