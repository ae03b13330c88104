import type { Knex } from 'knex';

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

