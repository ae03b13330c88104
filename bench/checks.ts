/**
 * The targets of issue 6, as ratios between scenarios of the same run (so the machine's speed
 * cancels out), plus "is tablemq ahead of each peer". A check whose inputs are missing is listed
 * without a verdict rather than dropped, so a reader sees what was not measured.
 */
import type { PeerResult, Throughput } from './peers';
import type { Check, ScenarioResult } from './results';

const fmtRatio = (v: number): string => v.toFixed(2);
const fmtMs = (v: number): string => `${v.toFixed(1)} ms`;
const fmtRate = (v: number): string => Math.round(v).toLocaleString('en-US');

function rateOf(scenarios: readonly ScenarioResult[], id: string): number | undefined {
  const s = scenarios.find((x) => x.id === id);
  return s?.error === undefined ? s?.rate : undefined;
}

function ratio(scenarios: readonly ScenarioResult[], name: string, num: string, den: string, min: number | undefined): Check {
  const a = rateOf(scenarios, num);
  const b = rateOf(scenarios, den);
  const target = min === undefined ? 'info' : `≥ ${min.toFixed(2)}`;
  if (a === undefined || b === undefined || b <= 0) return { name, shown: 'not measured', target, scenarioId: num };
  const value = a / b;
  return { name, value, shown: fmtRatio(value), target, pass: min === undefined ? undefined : value >= min, scenarioId: num };
}

function latencyBelow(scenarios: readonly ScenarioResult[], name: string, pick: 'p50Ms' | 'p99Ms', maxMs: number): Check {
  const s = scenarios.find((x) => x.id === 'e2e');
  const target = `< ${maxMs} ms`;
  const value = s?.error === undefined ? s?.latency?.[pick] : undefined;
  if (value === undefined || (s?.count ?? 0) === 0) return { name, shown: 'not measured', target, scenarioId: 'e2e' };
  return { name, value, shown: fmtMs(value), target, pass: value < maxMs, scenarioId: 'e2e' };
}

export function targetChecks(scenarios: readonly ScenarioResult[]): Check[] {
  return [
    ratio(scenarios, 'single produce x64 / express ceiling x64', 'produce.single.x64', 'ceiling.x64', 0.7),
    ratio(scenarios, 'single produce x16 / express ceiling x16', 'produce.single.x16', 'ceiling.x16', undefined),
    ratio(scenarios, 'batch produce x4 / raw 100-row INSERT x4', 'produce.batch.x4', 'raw.insert100.x4', 0.8),
    ratio(scenarios, 'batch produce x16 / raw 100-row INSERT x4', 'produce.batch.x16', 'raw.insert100.x4', undefined),
    ratio(scenarios, 'batch produce x4 / raw prepared 100-row INSERT x4', 'produce.batch.x4', 'raw.insert100prep.x4', undefined),
    ratio(scenarios, 'pull+commit x1 / raw range SELECT x1', 'consume.x1', 'raw.select.x1', 0.8),
    ratio(scenarios, 'pull+commit x4 / raw range SELECT x4', 'consume.x4', 'raw.select.x4', 0.8),
    latencyBelow(scenarios, 'end-to-end p50', 'p50Ms', 10),
    latencyBelow(scenarios, 'end-to-end p99', 'p99Ms', 50),
  ];
}

/** Pairs compared with each peer: our scenario and the peer's measurement under the same rules. */
const PEER_PAIRS: { what: string; ours: string; theirs: (p: PeerResult) => Throughput | undefined }[] = [
  { what: 'single produce x16', ours: 'produce.single.x16', theirs: (p) => p.singleX16 },
  { what: 'batch100 produce x4', ours: 'produce.batch.x4', theirs: (p) => p.batch100X4 },
  { what: 'consume (1 consumer)', ours: 'consume.x1', theirs: (p) => p.consume },
];

export function peerChecks(scenarios: readonly ScenarioResult[], peers: readonly PeerResult[]): Check[] {
  const checks: Check[] = [];
  for (const peer of peers) {
    for (const pair of PEER_PAIRS) {
      const name = `ahead of ${peer.peer}: ${pair.what}`;
      const ours = rateOf(scenarios, pair.ours);
      const theirs = pair.theirs(peer)?.msgsPerSec;
      if (ours === undefined || theirs === undefined || theirs <= 0) {
        checks.push({ name, shown: 'not measured', target: 'ahead' });
        continue;
      }
      checks.push({
        name,
        value: ours / theirs,
        shown: `${fmtRate(ours)} vs ${fmtRate(theirs)} msgs/s (×${(ours / theirs).toFixed(2)})`,
        target: 'ahead',
        pass: ours > theirs,
      });
    }
  }
  return checks;
}
