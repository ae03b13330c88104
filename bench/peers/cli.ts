/**
 * Runs the peer benchmarks one after another and prints a table:
 *   npx tsx bench/peers/cli.ts --duration 3000 --bytes 1024 [--peers pg-boss,PgQ] [--json]
 */
import { parseArgs } from 'node:util';
import { allPeers, formatPeerTable } from './index';
import type { PeerResult } from './types';

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      bytes: { type: 'string' },
      peers: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const durationMs = positiveInt(values.duration, 3000, '--duration');
  const messageBytes = positiveInt(values.bytes, 1024, '--bytes');
  const wanted = values.peers?.split(',').map((p) => p.trim().toLowerCase());
  const peers = Object.entries(allPeers).filter(([name]) => wanted === undefined || wanted.includes(name.toLowerCase()));
  if (peers.length === 0) throw new Error(`no peer matches --peers; known: ${Object.keys(allPeers).join(', ')}`);

  console.log(`peers: ${durationMs} ms per scenario, ${messageBytes}-byte messages`);
  const results: PeerResult[] = [];
  // In sequence, never in parallel: peers share the machine's two cores and would skew each other.
  for (const [name, bench] of peers) {
    process.stderr.write(`running ${name}...\n`);
    results.push(await bench({ durationMs, messageBytes }));
  }
  console.log(values.json ? JSON.stringify(results, null, 2) : formatPeerTable(results));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
