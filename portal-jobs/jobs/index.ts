import type { JobName } from '../../shared/jobs/names';
import { cleanHistory } from './clean-history';
import { expireConsumers } from './expire-consumers';
import type { JobDefinition } from './job';
import { reclaimQueues } from './reclaim-queues';
import { checkAlarms } from './check-alarms';

/** Every job portal-jobs knows, by name (the names are shared with the broker's admin API). */
export const JOBS: Readonly<Record<JobName, JobDefinition>> = {
  'clean-history': cleanHistory,
  'expire-consumers': expireConsumers,
  'reclaim-queues': reclaimQueues,
  'check-alarms': checkAlarms,
};
