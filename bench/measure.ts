/**
 * Wraps one scenario's measured part with everything that explains its number: CPU by process
 * (server child, MariaDB, load generator, the rest of the machine), MariaDB counters (statements,
 * fsyncs, disk reads), the server's event-loop health and, with --profile, a CPU profile of it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchChild } from './child';
import { dirtyPct, readStatus, settle, type AdminConnection, type Status } from './mariadb';
import { machineBusySeconds, processCpuSeconds } from './procfs';
import { summarizeProfile, type ProfileSummary } from './profile';
import type { CpuSplit, DbDelta, LoopStats } from './results';

export interface MeasureEnv {
  admin: AdminConnection;
  /** The MariaDB server process, when /proc shows it. */
  dbPid: number | undefined;
  settleMs: number;
  /** Set with --profile: where per-scenario .cpuprofile files go. */
  profileDir: string | undefined;
}

export interface Measured<T> {
  value: T;
  cpu: CpuSplit;
  db: DbDelta;
  loop?: LoopStats;
  profile?: ProfileSummary;
}

interface CpuSnapshot {
  atMs: number;
  server?: number;
  db?: number;
  loadGen?: number;
  machine?: number;
}

function cpuSnapshot(env: MeasureEnv, server: BenchChild | undefined): CpuSnapshot {
  return {
    atMs: performance.now(),
    server: server === undefined ? undefined : processCpuSeconds(server.pid),
    db: env.dbPid === undefined ? undefined : processCpuSeconds(env.dbPid),
    loadGen: processCpuSeconds(process.pid),
    machine: machineBusySeconds(),
  };
}

function cpuSplit(a: CpuSnapshot, b: CpuSnapshot): CpuSplit {
  const wallMs = b.atMs - a.atMs;
  const cores = (x: number | undefined, y: number | undefined): number | undefined =>
    x === undefined || y === undefined || wallMs <= 0 ? undefined : (y - x) / (wallMs / 1000);
  const split: CpuSplit = {
    wallMs,
    serverCores: cores(a.server, b.server),
    dbCores: cores(a.db, b.db),
    loadGenCores: cores(a.loadGen, b.loadGen),
    machineBusyCores: cores(a.machine, b.machine),
  };
  if (split.machineBusyCores !== undefined) {
    const ours = (split.serverCores ?? 0) + (split.dbCores ?? 0) + (split.loadGenCores ?? 0);
    split.otherCores = Math.max(0, split.machineBusyCores - ours);
  }
  return split;
}

function dbDelta(a: Status, b: Status): DbDelta {
  return {
    comInsert: b.Com_insert - a.Com_insert,
    comSelect: b.Com_select - a.Com_select,
    comUpdate: b.Com_update - a.Com_update,
    comCommit: b.Com_commit - a.Com_commit,
    fsyncs: b.Innodb_data_fsyncs - a.Innodb_data_fsyncs,
    diskReads: b.Innodb_buffer_pool_reads - a.Innodb_buffer_pool_reads,
    dirtyPctAtStart: dirtyPct(a),
  };
}

/** Adds messages-per-INSERT and messages-per-fsync, given how many messages the scenario wrote. */
export function perStatement(db: DbDelta, messages: number): DbDelta {
  return {
    ...db,
    msgsPerInsert: db.comInsert > 0 ? messages / db.comInsert : undefined,
    msgsPerFsync: db.fsyncs > 0 ? messages / db.fsyncs : undefined,
  };
}

function loopStats(s: Awaited<ReturnType<BenchChild['stats']>>): LoopStats {
  return {
    utilization: s.utilization,
    delayP50Ms: s.delayP50Ms,
    delayP99Ms: s.delayP99Ms,
    delayMaxMs: s.delayMaxMs,
    rssMb: s.rssBytes / (1024 * 1024),
  };
}

/**
 * Runs `fn` (the measured part only: warm-ups go before the call) between two readings of
 * everything above. `server` is the child process serving the scenario, if any.
 */
export async function measure<T>(
  env: MeasureEnv,
  id: string,
  server: BenchChild | undefined,
  fn: () => Promise<T>,
): Promise<Measured<T>> {
  const before = await settle(env.admin, env.settleMs);
  if (server !== undefined) await server.stats(); // resets the child's counters to this scenario
  const profiling = env.profileDir !== undefined && server !== undefined;
  if (profiling) await server.request({ type: 'profile-start' }, 10_000);
  const cpu0 = cpuSnapshot(env, server);
  let value: T;
  let profile: ProfileSummary | undefined;
  try {
    value = await fn();
  } finally {
    if (profiling && env.profileDir !== undefined) {
      mkdirSync(env.profileDir, { recursive: true });
      const file = path.join(env.profileDir, `${id}.cpuprofile`);
      await server.request({ type: 'profile-stop', file }, 30_000);
      profile = summarizeProfile(file);
    }
  }
  const cpu = cpuSplit(cpu0, cpuSnapshot(env, server));
  const after = await readStatus(env.admin);
  const loop = server === undefined ? undefined : loopStats(await server.stats());
  return { value, cpu, db: dbDelta(before, after), loop, profile };
}
