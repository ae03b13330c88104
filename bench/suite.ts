/**
 * The order scenarios run in, and why: each tablemq scenario sits next to the baseline it is divided
 * by, so both see the same MariaDB state (table sizes, dirty pages, redo log); read scenarios start
 * from the same warmed buffer pool; the broker is stopped before the ceiling and the peers run, so it
 * takes no CPU from them.
 */
import { randomBytes } from 'node:crypto';
import type { BenchOptions } from './args';
import { TablemqApi } from './api';
import { runInsertBaseline, runRangeSelect } from './baselines';
import { runCeiling } from './ceiling';
import { BenchChild } from './child';
import { runE2e } from './e2e';
import { BENCH_ADMIN_TOKEN, JsonClient } from './http-client';
import { mysqlUrl, warmTables } from './mariadb';
import type { MeasureEnv } from './measure';
import { allPeers, type PeerResult } from './peers';
import { errorMessage } from './peers/common';
import type { ScenarioResult } from './results';
import { progress, type ScenarioEnv } from './scenario';
import { prepareBacklog, runDrain } from './tablemq-consume';
import { runProduce } from './tablemq-produce';

export interface SuiteOutcome {
  scenarios: ScenarioResult[];
  brokerConfig?: unknown;
  brokerPeakRssMb?: number;
  ceilingPeakRssMb?: number;
  /** The broker's last output lines when it printed warnings or errors during the run. */
  brokerWarnings?: string;
  errors: string[];
}

/**
 * The broker's environment: TABLEMQ_* settings from the caller's environment pass through (so a run
 * can try e.g. TABLEMQ_PRODUCE_MAX_IN_FLIGHT_PER_NODE=4), except where the broker lives.
 */
export function brokerEnv(database: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    // Auth on (the default) with a known admin token, and a secret key as in production (without
    // one the broker warns at start, and its warnings count in the report). TABLEMQ_AUTH=off passes through for an A/B.
    TABLEMQ_SECRET_KEY: randomBytes(32).toString('hex'),
    ...process.env,
    TABLEMQ_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    TABLEMQ_MYSQL_URL: mysqlUrl(database),
    TABLEMQ_PORT: '0',
    TABLEMQ_HOST: '127.0.0.1',
  };
  delete env.TABLEMQ_LOG_SILENT; // its warnings are counted and reported
  return env;
}

const wants = (opts: BenchOptions, ...groups: BenchOptions['only']): boolean => groups.some((g) => opts.only.includes(g));

async function brokerScenarios(env: ScenarioEnv, api: TablemqApi, database: string): Promise<ScenarioResult[]> {
  const { opts } = env;
  const out: ScenarioResult[] = [];
  if (wants(opts, 'produce')) {
    await api.createTopic('bench-single', opts.queues);
    for (const clients of [1, 16, 64]) {
      out.push(await runProduce(env, { id: `produce.single.x${clients}`, label: `tablemq produce 1 msg/req, ${clients} client${clients > 1 ? 's' : ''}`, topic: 'bench-single', clients, perRequest: 1 }));
    }
  }
  if (wants(opts, 'enqueue')) {
    await api.createTopic('bench-enqueue', opts.queues);
    for (const clients of [16, 64]) {
      out.push(await runProduce(env, { id: `produce.enqueue.x${clients}`, label: `tablemq client enqueue 1 msg/call, ${clients} callers`, topic: 'bench-enqueue', clients, perRequest: 1, viaEnqueue: true }));
    }
  }
  if (wants(opts, 'batch')) {
    await api.createTopic('bench-batch', opts.queues);
    for (const clients of [4, 16]) {
      out.push(await runProduce(env, { id: `produce.batch.x${clients}`, label: `tablemq produce 100 msgs/req, ${clients} clients`, topic: 'bench-batch', clients, perRequest: 100 }));
    }
  }
  if (wants(opts, 'baselines')) {
    out.push(await runInsertBaseline(env, database, { id: 'raw.insert100.x4', label: 'raw INSERT 100 rows/stmt, 4 connections', table: 'mq_900001', rowsPerStatement: 100, connections: 4 }));
    out.push(await runInsertBaseline(env, database, { id: 'raw.insert100prep.x4', label: 'raw INSERT 100 rows/stmt, prepared, 4 connections', table: 'mq_900003', rowsPerStatement: 100, connections: 4, prepared: true }));
    out.push(await runInsertBaseline(env, database, { id: 'raw.insert1.x16', label: 'raw INSERT 1 row/stmt, 16 connections', table: 'mq_900002', rowsPerStatement: 1, connections: 16 }));
  }
  if (wants(opts, 'consume')) {
    progress(`producing a backlog of ${opts.backlog} messages...`);
    const backlog = await prepareBacklog(env, api, 'bench-consume', ['bench-c1', 'bench-c4']);
    const tables = backlog.topic.queues.map((q) => q.table);
    // Every read scenario starts from the same buffer-pool state: all backlog rows just read once.
    const warm = () => warmTables(env.measureEnv.admin, database, tables);
    await warm();
    out.push(await runDrain(env, api, backlog, 'bench-c1', 1));
    await warm();
    out.push(await runRangeSelect(env, database, tables, backlog.messages, 1));
    await warm();
    out.push(await runDrain(env, api, backlog, 'bench-c4', Math.min(4, opts.queues)));
    await warm();
    out.push(await runRangeSelect(env, database, tables, backlog.messages, Math.min(4, tables.length)));
  }
  if (wants(opts, 'e2e')) out.push(await runE2e(env, api));
  return out;
}

/** Everything measured against MariaDB and over HTTP: broker scenarios, raw baselines, the ceiling. */
export async function runSuite(opts: BenchOptions, measureEnv: MeasureEnv, database: string): Promise<SuiteOutcome> {
  const outcome: SuiteOutcome = { scenarios: [], errors: [] };
  if (wants(opts, 'produce', 'enqueue', 'batch', 'baselines', 'consume', 'e2e')) {
    progress('starting the broker process...');
    let broker: BenchChild | undefined;
    try {
      broker = await BenchChild.start({ script: 'bench/broker-process.ts', label: 'broker', env: brokerEnv(database), readyTimeoutMs: 60_000 });
      outcome.brokerConfig = broker.info;
      const setupClient = new JsonClient(broker.port, 1);
      try {
        outcome.scenarios.push(...(await brokerScenarios({ opts, measureEnv, broker }, new TablemqApi(setupClient), database)));
      } finally {
        setupClient.close();
      }
    } catch (err) {
      outcome.errors.push(`broker scenarios: ${errorMessage(err)}${broker === undefined ? '' : `\n${broker.output()}`}`);
    } finally {
      if (broker !== undefined) {
        outcome.brokerPeakRssMb = broker.peakRssMb();
        await broker.stop();
        if (broker.warnings > 0) outcome.brokerWarnings = `${broker.warnings} warning/error lines; the last lines:\n${broker.output()}`;
      }
    }
  }
  if (wants(opts, 'ceiling')) {
    const ceiling = await runCeiling({ opts, measureEnv, broker: undefined }, [64, 16]);
    outcome.scenarios.push(...ceiling.results);
    outcome.ceilingPeakRssMb = ceiling.peakRssMb;
    if (ceiling.error !== undefined) outcome.errors.push(`express ceiling: ${ceiling.error}`);
  }
  return outcome;
}

/** The peers, one after another (never in parallel: they share the two cores). */
export async function runPeers(opts: BenchOptions): Promise<{ results: PeerResult[]; errors: string[] }> {
  const wanted = opts.peers?.map((p) => p.toLowerCase());
  const known = Object.keys(allPeers);
  const errors = (wanted ?? []).filter((w) => !known.some((k) => k.toLowerCase() === w)).map((w) => `--peers: unknown peer '${w}' (known: ${known.join(', ')})`);
  const results: PeerResult[] = [];
  for (const [name, bench] of Object.entries(allPeers)) {
    if (wanted !== undefined && !wanted.includes(name.toLowerCase())) continue;
    progress(`peer ${name}...`);
    try {
      results.push(await bench({ durationMs: opts.peerDurationMs, messageBytes: opts.messageBytes }));
    } catch (err) {
      // Peers report their own failures in the result; this is for one that broke that promise.
      results.push({ peer: name, durability: '?', error: errorMessage(err) });
    }
  }
  return { results, errors };
}
