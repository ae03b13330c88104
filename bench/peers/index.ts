/** Entry point for bench/run.ts: every peer benchmark by display name, in the order they should run. */
import { run as bullmq } from './bullmq';
import { run as pgboss } from './pgboss';
import { run as pgq } from './pgq';
import { run as rabbitmq } from './rabbitmq';
import type { PeerBench } from './types';

export type { PeerBench, PeerOptions, PeerResult, Throughput } from './types';
export { formatPeerTable } from './table';

export const allPeers: Record<string, PeerBench> = {
  'pg-boss': pgboss,
  PgQ: pgq,
  BullMQ: bullmq,
  RabbitMQ: rabbitmq,
};
