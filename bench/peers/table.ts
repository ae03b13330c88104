/** Plain-text table of peer results, for the peers CLI (and reusable by bench/run.ts). */
import type { PeerResult, Throughput } from './types';

const rate = (t: Throughput | undefined): string =>
  t === undefined ? '-' : Math.round(t.msgsPerSec).toLocaleString('en-US');
const ms = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));
const count = (t: Throughput | undefined): string => (t === undefined ? '-' : String(t.messages));

export function formatPeerTable(results: PeerResult[]): string {
  const header = [
    'peer',
    'single x16 msg/s',
    'p50 ms',
    'p99 ms',
    'batch100 x4 msg/s',
    'p50 ms/batch',
    'p99 ms/batch',
    'consume msg/s',
    'msgs single/batch/consumed',
  ];
  const rows = results.map((r) => [
    r.peer,
    rate(r.singleX16),
    ms(r.singleX16?.p50Ms),
    ms(r.singleX16?.p99Ms),
    rate(r.batch100X4),
    ms(r.batch100X4?.p50Ms),
    ms(r.batch100X4?.p99Ms),
    rate(r.consume),
    [count(r.singleX16), count(r.batch100X4), count(r.consume)].join('/'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  // First column left-aligned (names), the rest right-aligned (numbers).
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');

  const notes = results.flatMap((r) => [
    `  ${r.peer}: ${r.durability}`,
    ...(r.error === undefined ? [] : [`  ${r.peer} ERROR: ${r.error}`]),
  ]);
  return [line(header), rule, ...rows.map(line), '', 'durability:', ...notes].join('\n');
}
