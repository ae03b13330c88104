import type { Config } from '../shared/config';
import type { MetadataDb } from '../shared/db/metadata-db';
import type { Logger } from '../shared/logger';
import type { NodePools } from '../shared/messages/node-pools';
import type { SecretBox } from '../shared/secrets/secret-box';
import type { Authenticator } from './auth/authenticator';
import type { Catalog } from './catalog';
import type { Reading, Rotation } from './consume/fair-read';
import type { SharedReads } from './consume/queue-reader';
import type { OwnershipHints } from './consume/ownership-hints';
import type { Prefetches } from './consume/prefetch';
import type { WaitingPulls } from './consume/waiting-pulls';
import type { LogLevelControl } from './admin/log-level';
import type { Metrics } from './metrics';
import type { QueueSignals } from './signals';

/** Everything a request handler may use; built once in server.ts. */
export interface BrokerContext {
  config: Config;
  logger: Logger;
  db: MetadataDb;
  nodes: NodePools;
  /** Seals db node passwords for storage. */
  secrets: SecretBox;
  /** Who a request is (bearer token → app and grants), cached briefly. */
  auth: Authenticator;
  catalog: Catalog;
  signals: QueueSignals;
  /** The queues each consumer owned at its last pull here (a read-ahead hint, never a fence). */
  ownership: OwnershipHints;
  /** Reads started for consumers' next pulls (keyed "group:consumer"). */
  prefetches: Prefetches<Reading>;
  /** Where long-polls wait: one shared watch for new rows per broker (not a poll per pull); a leave ends them at once. */
  waitingPulls: WaitingPulls;
  /** Queue reads in flight, shared by pulls that ask the same. */
  sharedReads: SharedReads;
  /** Where a pull's round-robin take across queues starts next. */
  rotation: Rotation;
  /** Aborted when the broker begins to shut down: long-polls answer at once. */
  closing: AbortSignal;
  metrics: Metrics;
  /** The logger's level, changeable at run time (PUT /api/v1/admin/log-level). */
  logLevel: LogLevelControl;
}
