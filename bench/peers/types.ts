/** Shared shapes for the peer benchmarks; bench/run.ts consumes these to compare tablemq with its peers. */

export interface PeerOptions {
  /** Wall-clock budget per scenario (each of singleX16, batch100X4, consume). */
  durationMs: number;
  /** Size of every message body, in bytes of JSON text. */
  messageBytes: number;
}

export interface Throughput {
  msgsPerSec: number;
  /** Per-call ack latency (one message for singleX16, one batch of 100 for batch100X4). */
  p50Ms?: number;
  p99Ms?: number;
  /** Messages produced or consumed during the measurement. */
  messages: number;
}

export interface PeerResult {
  peer: string; // 'pg-boss' | 'PgQ' | 'BullMQ' | 'RabbitMQ'
  /** One line: what survives a crash in the configuration that was measured. */
  durability: string;
  /** Single-message produce, 16 concurrent producers, each awaiting its own ack. */
  singleX16?: Throughput;
  /** Batches of 100 messages per call, 4 concurrent producers. */
  batch100X4?: Throughput;
  /** Consume + ack throughput draining the backlog left by the two produce scenarios. */
  consume?: Throughput;
  /** Set when the peer (or one of its scenarios) could not run, with the reason. */
  error?: string;
}

export type PeerBench = (opts: PeerOptions) => Promise<PeerResult>;
