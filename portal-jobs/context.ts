import type { Config } from '../shared/config';
import type { MetadataDb } from '../shared/db/metadata-db';
import type { Logger } from '../shared/logger';
import type { NodePools } from '../shared/messages/node-pools';
import type { JobsMetrics } from './metrics';

/** What every job and the lease/run machinery may use; built once in app.ts. */
export interface JobsContext {
  config: Config;
  logger: Logger;
  db: MetadataDb;
  nodes: NodePools;
  /** This instance's name in job_lease and job_run: host, pid and a random suffix. */
  holder: string;
  metrics: JobsMetrics;
}
