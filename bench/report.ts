/** The plain-text report on stdout: what was measured, against which targets, and where the CPU went. */
import { formatPeerTable } from './peers';
import { formatProfile } from './profile';
import type { BenchReport, Check, ScenarioResult } from './results';

const rate = (v: number | undefined): string => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));
const ms = (v: number | undefined): string => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2));
const num = (v: number | undefined, digits = 1): string => (v === undefined ? '-' : v.toFixed(digits));
/** Cores used by processes outside the benchmark above which a scenario's figures are flagged as skewed. */
const BUSY_ELSEWHERE = 0.25;
const verdict = (c: Check): string => (c.pass === undefined ? (c.value === undefined && c.target !== 'info' ? 'n/a' : '') : c.pass ? 'pass' : 'MISS');

/** Columns padded to their widest cell; `align` has one 'l' or 'r' per column. */
export function formatTable(header: string[], rows: string[][], align: string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

function mainTable(scenarios: readonly ScenarioResult[], checks: readonly Check[]): string {
  const rows = scenarios.map((s) => {
    const mine = checks.filter((c) => c.scenarioId === s.id && c.target !== 'info');
    return [
      s.label,
      s.error === undefined ? rate(s.rate) : 'ERROR',
      s.unit,
      ms(s.latency?.p50Ms),
      ms(s.latency?.p99Ms),
      ms(s.latency?.maxMs),
      s.latency?.per ?? '',
      num(s.db?.msgsPerInsert),
      mine.map((c) => `${c.shown} (${c.target})`).join('; '),
      mine.map(verdict).join(', '),
    ];
  });
  return formatTable(
    ['scenario', 'rate', 'unit', 'p50 ms', 'p99 ms', 'max ms', 'latency of one', 'msgs/INSERT', 'ratio / value (target)', 'result'],
    rows,
    'lrlrrrlrll',
  );
}

function cpuTable(scenarios: readonly ScenarioResult[]): string {
  const rows = scenarios
    .filter((s) => s.cpu !== undefined)
    .map((s) => [
      s.id,
      num(s.cpu?.serverCores, 2),
      num(s.cpu?.dbCores, 2),
      num(s.cpu?.loadGenCores, 2),
      `${num(s.cpu?.otherCores, 2)}${(s.cpu?.otherCores ?? 0) > BUSY_ELSEWHERE ? ' !' : ''}`,
      s.loop === undefined ? '-' : `${(100 * s.loop.utilization).toFixed(0)}%`,
      ms(s.loop?.delayP99Ms),
      s.db === undefined || s.cpu === undefined ? '-' : rate((s.db.comInsert + s.db.comSelect + s.db.comUpdate) / (s.cpu.wallMs / 1000)),
      s.db === undefined || s.cpu === undefined ? '-' : rate(s.db.fsyncs / (s.cpu.wallMs / 1000)),
      num(s.db?.msgsPerFsync),
      String(s.db?.diskReads ?? '-'),
      num(s.db?.dirtyPctAtStart, 0),
    ]);
  return formatTable(
    ['scenario', 'server cores', 'MariaDB cores', 'load-gen cores', 'other cores', 'server loop busy', 'loop delay p99', 'SQL stmts/s', 'fsyncs/s', 'msgs/fsync', 'disk reads', 'dirty% at start'],
    rows,
    'lrrrrrrrrrrr',
  );
}

function checkTable(checks: readonly Check[]): string {
  return formatTable(
    ['check', 'value', 'target', 'result'],
    checks.map((c) => [c.name, c.shown, c.target, verdict(c)]),
    'lrll',
  );
}

export function formatReport(r: BenchReport): string {
  const m = r.machine;
  const db = m.mariadb;
  const out: string[] = [
    `tablemq benchmark, ${r.startedAt} (${r.database})`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.platform} ${m.kernel}, node ${m.node}`,
    `MariaDB ${db.version ?? '?'}: innodb_flush_log_at_trx_commit=${db.innodb_flush_log_at_trx_commit ?? '?'}, ` +
      `sync_binlog=${db.sync_binlog ?? '?'}, log_bin=${db.log_bin ?? '?'}, buffer pool ${Math.round(Number(db.innodb_buffer_pool_size ?? 0) / 1048576)} MiB, ` +
      `redo log ${Math.round(Number(db.innodb_log_file_size ?? 0) / 1048576)} MiB, flush method ${db.innodb_flush_method ?? '?'}`,
    `options: ${JSON.stringify(r.options)}`,
    `machine busy outside the benchmark just before it started: ${num(r.busyBeforeStartCores, 2)} cores` +
      ((r.busyBeforeStartCores ?? 0) > BUSY_ELSEWHERE ? '  <-- NOT QUIET: expect skewed figures' : ''),
    '',
    mainTable(r.scenarios, r.checks),
    '',
    'where the CPU went (cores busy during the scenario; 2 cores in all; "server" = the broker, or the express app for ceiling.*):',
    cpuTable(r.scenarios),
    `("!": more than ${BUSY_ELSEWHERE} cores busy outside the benchmark, e.g. someone's tests: that row is skewed; ` +
      'SQL statements (INSERT+SELECT+UPDATE), fsyncs and msgs/INSERT are server-wide counters, skewed the same way)',
    '',
    checkTable(r.checks),
    '',
    `broker peak RSS (VmHWM): ${num(r.brokerPeakRssMb)} MiB; express ceiling peak RSS: ${num(r.ceilingPeakRssMb)} MiB`,
  ];
  const notes = r.scenarios.flatMap((s) => [
    ...s.notes.map((n) => `  ${s.id}: ${n}`),
    ...(s.error === undefined ? [] : [`  ${s.id} ERROR: ${s.error}`]),
  ]);
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  const profiled = r.scenarios.filter((s) => s.profile !== undefined);
  if (profiled.length > 0) {
    out.push('', 'broker CPU profiles (shares of busy time):');
    for (const s of profiled) if (s.profile !== undefined) out.push(formatProfile(s.id, s.profile));
  }
  if (r.peers.length > 0) out.push('', `peers (${r.options.peerDurationMs} ms per scenario, same machine and message size):`, formatPeerTable(r.peers));
  if (r.brokerWarnings !== undefined) out.push('', `the broker logged ${r.brokerWarnings}`);
  if (r.errors.length > 0) out.push('', 'HARNESS ERRORS:', ...r.errors.map((e) => `  ${e}`));
  return out.join('\n');
}
