/** Latency percentiles, computed the same way as the peers' (nearest rank over the sorted samples). */

/** Nearest-rank percentile of an ascending-sorted array; 0 when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? 0;
}

export interface Summary {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  count: number;
}

export function summarize(samplesMs: readonly number[]): Summary {
  const sorted = Float64Array.from(samplesMs).sort();
  return {
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0),
    count: sorted.length,
  };
}
