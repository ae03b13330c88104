import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export type AlertKind = 'lag' | 'spare-queues';
export type AlertState = 'firing' | 'cleared';

export interface AlertRow {
  id: number;
  kind: AlertKind;
  target: string;
  state: AlertState;
  value: number;
  threshold: number;
  message: string;
  deliveryStatus: number | null;
  deliveryError: string | null;
  createdAt: Date;
}

interface AlertRecord {
  id: number | string;
  kind: AlertKind;
  target: string;
  state: AlertState;
  value: number | string;
  threshold: number | string;
  message: string;
  delivery_status: number | null;
  delivery_error: string | null;
  created_at: Date;
}

const toAlert = (r: AlertRecord): AlertRow => ({
  id: Number(r.id),
  kind: r.kind,
  target: r.target,
  state: r.state,
  value: Number(r.value),
  threshold: Number(r.threshold),
  message: r.message,
  deliveryStatus: r.delivery_status,
  deliveryError: r.delivery_error,
  createdAt: r.created_at,
});

export const alertKey = (kind: AlertKind, target: string) => `${kind}|${target}`;

/** The latest alert of every (kind, target): its current state. */
export async function latestAlerts(db: Db): Promise<Map<string, AlertRow>> {
  const rows: AlertRecord[] = await db('alert').whereIn('id', db('alert').max('id').groupBy('kind', 'target'));
  return new Map(rows.map((r) => [alertKey(r.kind, r.target), toAlert(r)]));
}

export async function insertAlert(db: Db, a: { kind: AlertKind; target: string; state: AlertState; value: number; threshold: number; message: string }): Promise<number> {
  const [id] = await db('alert').insert(a);
  return Number(id);
}

export async function recordDelivery(db: Db, id: number, status: number | null, error: string | null): Promise<void> {
  await db('alert').where({ id }).update({ delivery_status: status, delivery_error: error === null ? null : error.slice(0, 1000) });
}

/** A page of alerts, newest first; `active` keeps only those whose (kind, target) is firing now. */
export async function listAlerts(db: Db, f: { limit: number; beforeId?: number; active: boolean }): Promise<AlertRow[]> {
  if (f.active) {
    return [...(await latestAlerts(db)).values()].filter((a) => a.state === 'firing').sort((a, b) => b.id - a.id);
  }
  const q = db('alert').select('*');
  if (f.beforeId !== undefined) q.where('id', '<', f.beforeId);
  const rows: AlertRecord[] = await q.orderBy('id', 'desc').limit(f.limit);
  return rows.map(toAlert);
}
