/**
 * The portal-jobs jobs, by the names used in config, job_lease, job_run, logs, the CLI
 * (`portal-jobs run <job>`) and the admin API. Shared so the broker can list jobs that never ran.
 */
export const JOB_NAMES = ['clean-history', 'expire-consumers', 'reclaim-queues', 'check-alarms'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export function isJobName(value: string): value is JobName {
  return (JOB_NAMES as readonly string[]).includes(value);
}
