/**
 * Command-line flags of `npm run bench -- [flags]`. Every knob that changes what is measured lives
 * here, so the JSON report can record the exact options a run used.
 */
import { parseArgs } from 'node:util';

export const SCENARIO_GROUPS = ['produce', 'enqueue', 'batch', 'consume', 'e2e', 'baselines', 'ceiling'] as const;
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

export interface BenchOptions {
  quick: boolean;
  /** Measured time of one scenario (warm-up comes on top). */
  durationMs: number;
  /** Unmeasured run of the same load before a closed-loop scenario: opens sockets, warms the JIT. */
  warmupMs: number;
  /** Budget per peer scenario (each peer runs three). */
  peerDurationMs: number;
  messageBytes: number;
  /** Queues per tablemq topic. */
  queues: number;
  /** End-to-end scenario: produce rate, messages per second. */
  e2eRate: number;
  /** Messages in the consume backlog (also the rows the raw range SELECT walks). */
  backlog: number;
  /** Longest wait for MariaDB to flush dirty pages between scenarios. */
  settleMs: number;
  /** undefined = every peer; [] = none. */
  peers: string[] | undefined;
  only: ScenarioGroup[];
  /** CPU-profile the broker child during each broker scenario. */
  profile: boolean;
  outDir: string;
  /** Run only the scale scenario (bench/scale.ts); reduced size with --quick. */
  scale: boolean;
}

const USAGE = `usage: npm run bench -- [flags]
  --quick               whole run < 60 s (short scenarios, small backlog)
  --duration MS         measured time per scenario (default 10000; quick 1500)
  --peer-duration MS    time per peer scenario (default = --duration; quick 700)
  --bytes N             message body size in bytes of JSON (default 1024)
  --queues N            queues per tablemq topic (default 4)
  --rate N              end-to-end produce rate, msgs/s (default 1000)
  --backlog N           consume backlog, messages (default 80000, ~90 MB; quick 20000)
  --peers a,b           run only these peers (pg-boss, PgQ, BullMQ, RabbitMQ)
  --no-peers            skip the peers
  --only g1,g2          run only these groups: ${SCENARIO_GROUPS.join(', ')}
                        (consume includes the raw SELECT baseline; baselines = the raw INSERTs)
  --profile             CPU-profile the broker during each broker scenario (slows it a little)
  --out DIR             where the JSON report goes (default bench-results)
  --scale               run only the scale scenario (200 topics, 20 groups, 500 consumers on 2 brokers;
                        with --quick a tenth of that): rebalance latency, idle and loaded CPU, lag, RSS`;

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got '${value}'\n${USAGE}`);
  return n;
}

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      'peer-duration': { type: 'string' },
      bytes: { type: 'string' },
      queues: { type: 'string' },
      rate: { type: 'string' },
      backlog: { type: 'string' },
      peers: { type: 'string' },
      'no-peers': { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      scale: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 'help';
  }
  const quick = values.quick;
  const durationMs = positiveInt(values.duration, quick ? 1500 : 10_000, '--duration');
  const messageBytes = positiveInt(values.bytes, 1024, '--bytes');
  // The backlog should stay inside InnoDB's buffer pool (128 MiB here) so consume and the raw SELECT
  // both measure reads from memory, not from disk: ~90 MB of 1 KB rows by default.
  const defaultBacklog = Math.max(1000, Math.floor(((quick ? 20 : 80) * 1024 * 1024) / Math.max(1024, messageBytes)));
  const only = list(values.only) ?? [...SCENARIO_GROUPS];
  for (const g of only) {
    if (!(SCENARIO_GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown group '${g}'\n${USAGE}`);
  }
  return {
    quick,
    durationMs,
    // 10% of the scenario, between 200 ms and 1 s: enough for sockets and JIT, cheap in --quick.
    warmupMs: Math.min(1000, Math.max(200, Math.round(durationMs / 10))),
    peerDurationMs: positiveInt(values['peer-duration'], quick ? 700 : durationMs, '--peer-duration'),
    messageBytes,
    queues: positiveInt(values.queues, 4, '--queues'),
    e2eRate: positiveInt(values.rate, 1000, '--rate'),
    backlog: Math.ceil(positiveInt(values.backlog, defaultBacklog, '--backlog') / 100) * 100,
    settleMs: quick ? 300 : 3000,
    peers: values['no-peers'] ? [] : list(values.peers),
    only: only as ScenarioGroup[],
    profile: values.profile,
    outDir: values.out ?? 'bench-results',
    scale: values.scale,
  };
}
