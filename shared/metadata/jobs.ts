import type { Knex } from 'knex';
import { isDuplicate } from '../db/mysql-errors';
import { parseDetail } from './json-detail';

type Db = Knex | Knex.Transaction;

/*
 * job_lease and job_run (docs/architecture.md, "Processes"). Every time comparison uses the metadata DB's clock
 * (NOW(3)), so portal-jobs instances with skewed clocks still agree on who holds a lease.
 */

export type JobRunStatus = 'running' | 'succeeded' | 'failed';
export type JobTrigger = 'schedule' | 'manual';

export interface JobLease {
  job: string;
  holder: string;
  acquiredAt: Date | null;
  expiresAt: Date;
  /** Not expired by the metadata DB's clock. */
  held: boolean;
  /** Scheduled runs that found nothing to do, counted here instead of written to job_run. */
  idleRuns: number;
  lastIdleRunAt: Date | null;
}

export interface JobRunRow {
  id: number;
  job: string;
  holder: string;
  triggeredBy: JobTrigger;
  scheduledFor: Date | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  status: JobRunStatus;
  /** JSON written when the run finished: {counts, error?}. */
  detail: unknown;
}

interface LeaseRecord {
  job: string;
  holder: string;
  acquired_at: Date | null;
  expires_at: Date;
  held: number;
  idle_runs: number | string;
  last_idle_run_at: Date | null;
}

interface JobRunRecord {
  id: number;
  job: string;
  holder: string;
  triggered_by: JobTrigger;
  scheduled_for: Date | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | string | null;
  status: JobRunStatus;
  detail: string | null;
}

const leaseUntil = (db: Db, leaseMs: number) => db.raw('NOW(3) + INTERVAL ? MICROSECOND', [leaseMs * 1000]);


// ---- job_lease ----

/** First lease of a job ever: INSERT IGNORE, so of two instances racing exactly one row wins. */
export async function insertLeaseIfAbsent(db: Db, job: string, holder: string, leaseMs: number): Promise<boolean> {
  const [result] = (await db.raw(
    'INSERT IGNORE INTO job_lease (job, holder, expires_at, acquired_at) VALUES (?, ?, NOW(3) + INTERVAL ? MICROSECOND, NOW(3))',
    [job, holder, leaseMs * 1000],
  )) as [{ affectedRows: number }];
  return result.affectedRows === 1;
}

/**
 * Takes an expired (or released) lease. The UPDATE re-reads the row under its lock, so when two
 * instances try at once the second sees the first one's fresh expires_at and matches nothing.
 */
export async function takeExpiredLease(db: Db, job: string, holder: string, leaseMs: number): Promise<boolean> {
  const matched = await db('job_lease')
    .where({ job })
    .where('expires_at', '<=', db.raw('NOW(3)'))
    .update({ holder, expires_at: leaseUntil(db, leaseMs), acquired_at: db.raw('NOW(3)') });
  return matched === 1;
}

/** Extends a lease this holder still has; false once another instance took it over. */
export async function renewLease(db: Db, job: string, holder: string, leaseMs: number): Promise<boolean> {
  const matched = await db('job_lease').where({ job, holder }).update({ expires_at: leaseUntil(db, leaseMs) });
  return matched === 1;
}

/** Lets the lease go at once (expires now); a no-op if another instance holds it by now. */
export async function releaseLease(db: Db, job: string, holder: string): Promise<void> {
  await db('job_lease').where({ job, holder }).update({ expires_at: db.raw('NOW(3)') });
}

const toLease = (r: LeaseRecord): JobLease => ({
  job: r.job,
  holder: r.holder,
  acquiredAt: r.acquired_at,
  expiresAt: r.expires_at,
  held: Boolean(r.held),
  idleRuns: Number(r.idle_runs),
  lastIdleRunAt: r.last_idle_run_at,
});

const LEASE_COLUMNS = ['job', 'holder', 'acquired_at', 'expires_at', 'idle_runs', 'last_idle_run_at'] as const;

export async function findLease(db: Db, job: string): Promise<JobLease | undefined> {
  const row: LeaseRecord | undefined = await db('job_lease')
    .select(...LEASE_COLUMNS, db.raw('expires_at > NOW(3) AS held'))
    .where({ job })
    .first();
  return row && toLease(row);
}

export async function listLeases(db: Db): Promise<JobLease[]> {
  const rows: LeaseRecord[] = await db('job_lease')
    .select(...LEASE_COLUMNS, db.raw('expires_at > NOW(3) AS held'))
    .orderBy('job');
  return rows.map(toLease);
}

// ---- job_run ----

type NewJobRun = { job: string; holder: string; triggeredBy: JobTrigger; scheduledFor: Date | null };

/**
 * Opens a run. A scheduled run names its cron tick; (job, scheduled_for) is unique, so a tick
 * another instance already ran returns undefined instead of a second row. Manual runs have no
 * tick (NULL never collides).
 */
export function insertJobRun(db: Db, run: NewJobRun): Promise<number | undefined> {
  return insertRunRow(db, run, { started_at: db.raw('NOW(3)'), status: 'running' });
}

/**
 * Writes a run that already ended, in one row (a job that records only runs that did something,
 * see runJob); undefined when its tick already has a row.
 */
export function insertFinishedJobRun(db: Db, run: NewJobRun, status: Exclude<JobRunStatus, 'running'>, detail: unknown, durationMs: number): Promise<number | undefined> {
  return insertRunRow(db, run, {
    started_at: db.raw('NOW(3) - INTERVAL ? MICROSECOND', [durationMs * 1000]),
    finished_at: db.raw('NOW(3)'),
    status,
    detail: JSON.stringify(detail),
  });
}

async function insertRunRow(db: Db, run: NewJobRun, state: Record<string, unknown>): Promise<number | undefined> {
  try {
    const [id] = await db('job_run').insert({ job: run.job, holder: run.holder, triggered_by: run.triggeredBy, scheduled_for: run.scheduledFor, ...state });
    return Number(id);
  } catch (err) {
    if (isDuplicate(err)) return undefined;
    throw err;
  }
}

/**
 * Claims a cron tick on the job's lease row, for a job that writes its job_run row only after a
 * run (see runJob). The caller holds the lease, so no one else writes the row meanwhile; a tick
 * at or before the latest one claimed has run already (here or on another instance).
 */
export async function claimTick(db: Db, job: string, holder: string, slot: Date): Promise<boolean> {
  const matched = await db('job_lease')
    .where({ job, holder })
    .where((q) => q.whereNull('last_slot').orWhere('last_slot', '<', slot))
    .update({ last_slot: slot });
  return matched === 1;
}

/** Counts a scheduled run that found nothing to do, on the job's lease row (which exists: the run held it). */
export async function countIdleRun(db: Db, job: string): Promise<void> {
  await db('job_lease').where({ job }).update({ idle_runs: db.raw('idle_runs + 1'), last_idle_run_at: db.raw('NOW(3)') });
}

/** Closes a run; a run already marked abandoned by the next lease holder keeps that verdict. */
export async function finishJobRun(db: Db, id: number, status: Exclude<JobRunStatus, 'running'>, detail: unknown): Promise<void> {
  await db('job_run')
    .where({ id, status: 'running' })
    .update({ status, finished_at: db.raw('NOW(3)'), detail: JSON.stringify(detail) });
}

/**
 * Runs of a job still marked running by another holder: that holder lost its lease (it died or
 * stalled), since the caller holds the lease now. Marked failed so the history tells the truth.
 */
export async function failAbandonedRuns(db: Db, job: string, currentHolder: string, detail: unknown): Promise<number> {
  return db('job_run')
    .where({ job, status: 'running' })
    .whereNot({ holder: currentHolder })
    .update({ status: 'failed', finished_at: db.raw('NOW(3)'), detail: JSON.stringify(detail) });
}

/** The latest runs of a job, newest first, with their duration by the metadata DB's clock. */
export async function recentJobRuns(db: Db, job: string, limit: number): Promise<JobRunRow[]> {
  const rows: JobRunRecord[] = await db('job_run')
    .select(
      'id',
      'job',
      'holder',
      'triggered_by',
      'scheduled_for',
      'started_at',
      'finished_at',
      db.raw('TIMESTAMPDIFF(MICROSECOND, started_at, finished_at) DIV 1000 AS duration_ms'),
      'status',
      'detail',
    )
    .where({ job })
    .orderBy('id', 'desc')
    .limit(limit);
  return rows.map((r) => ({
    id: Number(r.id),
    job: r.job,
    holder: r.holder,
    triggeredBy: r.triggered_by,
    scheduledFor: r.scheduled_for,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    status: r.status,
    detail: parseDetail(r.detail),
  }));
}

/** Job names that have run history (jobs of other versions included), for the admin listing. */
export async function jobsWithRuns(db: Db): Promise<string[]> {
  const rows: { job: string }[] = await db('job_run').distinct('job').orderBy('job');
  return rows.map((r) => r.job);
}

/** Deletes up to `limit` finished runs older than the given age; returns how many went. */
export async function pruneJobRuns(db: Db, olderThanHours: number, limit: number): Promise<number> {
  return db('job_run')
    .where('started_at', '<', db.raw('NOW(3) - INTERVAL ? HOUR', [olderThanHours]))
    .whereNot({ status: 'running' })
    .orderBy('id')
    .limit(limit)
    .delete();
}
