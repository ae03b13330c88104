import type { Knex } from 'knex';
import { parseDetail } from './json-detail';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  detail?: unknown;
}

/** Written in the same transaction as the change it records. */
export async function writeAudit(db: Knex | Knex.Transaction, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
  });
}

export interface AuditFilter {
  target?: string;
  /** The actor as stored, or its name before the "@". */
  actor?: string;
  action?: string;
  from?: Date;
  to?: Date;
  /** Entries older than this id (the previous page's `next`). */
  beforeId?: number;
  limit: number;
}

export interface AuditRow {
  id: number;
  actor: string;
  action: string;
  target: string;
  detail: unknown;
  createdAt: Date;
}

interface AuditRecord {
  id: number | string;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
  created_at: Date;
}

/** A page of the audit log, newest first. */
export async function listAudit(db: Knex | Knex.Transaction, f: AuditFilter): Promise<AuditRow[]> {
  const q = db('audit_log').select('*');
  if (f.target !== undefined) q.where({ target: f.target });
  if (f.action !== undefined) q.where({ action: f.action });
  if (f.actor !== undefined) {
    const actor = f.actor;
    q.where((w) => w.where({ actor }).orWhereRaw("SUBSTRING_INDEX(actor, '@', 1) = ?", [actor]));
  }
  if (f.from !== undefined) q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q.where('created_at', '<', f.to);
  if (f.beforeId !== undefined) q.where('id', '<', f.beforeId);
  const rows: AuditRecord[] = await q.orderBy('id', 'desc').limit(f.limit);
  return rows.map((r) => ({ id: Number(r.id), actor: r.actor, action: r.action, target: r.target, detail: parseDetail(r.detail), createdAt: r.created_at }));
}

/** Deletes up to `batch` entries older than `days` (by the metadata DB's clock); returns how many. */
export async function pruneAuditLog(db: Knex | Knex.Transaction, days: number, batch: number): Promise<number> {
  const [result] = (await db.raw('DELETE FROM audit_log WHERE created_at < NOW(3) - INTERVAL ? DAY ORDER BY id LIMIT ?', [days, batch])) as [{ affectedRows: number }];
  return result.affectedRows;
}
