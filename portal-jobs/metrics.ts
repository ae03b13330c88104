import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** portal-jobs' Prometheus series; one registry per instance (tests run two in one process). */
export class JobsMetrics {
  readonly registry = new Registry();

  readonly runs = new Counter({
    name: 'tablemq_job_runs_total',
    help: 'Job runs attempted by this instance by outcome: succeeded, failed, lease_held (another instance had it), already_ran (this tick ran elsewhere)',
    labelNames: ['job', 'outcome'],
    registers: [this.registry],
  });
  readonly runSeconds = new Histogram({
    name: 'tablemq_job_run_duration_seconds',
    help: 'How long finished job runs took on this instance',
    labelNames: ['job', 'status'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });
  readonly leaseHeld = new Gauge({
    name: 'tablemq_job_lease_held',
    help: "1 while this instance holds the job's lease (its run is in progress here), else 0",
    labelNames: ['job'],
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'tablemq_job_last_success_timestamp_seconds',
    help: 'Unix time at which the last successful run of the job on this instance finished',
    labelNames: ['job'],
    registers: [this.registry],
  });

  /** Lists every job at 0 from the start, so an alert on a job that never ran still has a series. */
  constructor(jobs: readonly string[]) {
    for (const job of jobs) this.leaseHeld.set({ job }, 0);
  }
}
