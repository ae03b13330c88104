/** Shapes of what one benchmark run measures; report.ts prints them and run.ts writes them as JSON. */
import type { BenchOptions } from './args';
import type { PeerResult } from './peers';
import type { ProfileSummary } from './profile';

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs?: number;
  /** What one latency sample is (one request, one pull+commit round, one message end to end). */
  per: string;
}

/** CPU used during a scenario, in cores (CPU-seconds per wall second), by process. Two cores in all. */
export interface CpuSplit {
  wallMs: number;
  /** The broker child, or the express ceiling child in the ceiling scenarios. */
  serverCores?: number;
  dbCores?: number;
  loadGenCores?: number;
  /** Whole machine busy time; minus the three above = anything else running (other people's tests). */
  machineBusyCores?: number;
  otherCores?: number;
}

/** MariaDB GLOBAL STATUS deltas over a scenario: server-wide, so other sessions' work is included. */
export interface DbDelta {
  comInsert: number;
  comSelect: number;
  comUpdate: number;
  /** Explicit COMMITs (the broker's metadata transactions); autocommit statements are not counted here. */
  comCommit: number;
  /** InnoDB fsyncs (redo log and data files): with innodb_flush_log_at_trx_commit=1, about one per commit group. */
  fsyncs: number;
  /** Pages read from disk: non-zero means a read scenario was not served from the buffer pool. */
  diskReads: number;
  /** Dirty share of the buffer pool when the scenario started (background flushing competes for I/O). */
  dirtyPctAtStart: number;
  msgsPerInsert?: number;
  msgsPerFsync?: number;
}

/** Event-loop health of a child process over a scenario, from inside it. */
export interface LoopStats {
  /** Share of wall time the event loop was busy (1 = saturated: the process is the bottleneck). */
  utilization: number;
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  rssMb: number;
}

export type ResultGroup = 'tablemq' | 'baseline';

export interface ScenarioResult {
  id: string;
  label: string;
  group: ResultGroup;
  unit: 'msgs/s' | 'req/s';
  rate?: number;
  latency?: Latency;
  /** Messages (or requests, for req/s) counted in the rate. */
  count?: number;
  cpu?: CpuSplit;
  db?: DbDelta;
  loop?: LoopStats;
  profile?: ProfileSummary;
  notes: string[];
  error?: string;
}

/** One ratio or latency compared with its target. */
export interface Check {
  name: string;
  value?: number;
  /** How the value prints: "0.82", "7.1 ms". */
  shown: string;
  target: string;
  /** undefined: informational, or not measurable in this run. */
  pass?: boolean;
  /** The scenario row this check belongs to in the printed table. */
  scenarioId?: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  kernel: string;
  mariadb: Record<string, string>;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  options: BenchOptions;
  machine: MachineInfo;
  database: string;
  /** Cores busy on the machine during the second before the run (someone else's work skews every figure). */
  busyBeforeStartCores?: number;
  /** The broker's effective config, as the child loaded it. */
  brokerConfig?: unknown;
  brokerPeakRssMb?: number;
  ceilingPeakRssMb?: number;
  brokerWarnings?: string;
  scenarios: ScenarioResult[];
  checks: Check[];
  peers: PeerResult[];
  /** Setup or teardown failures (the harness itself). */
  errors: string[];
}
