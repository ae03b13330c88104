import type { Pool } from 'mysql2/promise';
import type { MessageJsonRow } from '../message';
import { quotedTable } from '../queue-table';
import { rawArrayQuery } from './callback-api';
import { messageJsonExpression } from './message-json';

/** A range of one queue to read: ids after `afterId`, at most `limit` rows. */
export interface QueueRange {
  table: string;
  topic: string;
  queueId: number;
  afterId: number;
  limit: number;
}

/**
 * The pull's read. Committed messages after each range's `afterId`, in id order, as API JSON (see
 * messageJsonExpression): one result list per range. A consistent read: it never waits. All
 * ranges go in ONE statement (a UNION ALL of per-queue range reads), since every statement costs a
 * round trip and socket writes on both sides; rows come back as arrays, not one object per row.
 */
export async function readMessagesJson(pool: Pool, ranges: readonly QueueRange[]): Promise<MessageJsonRow[][]> {
  const out = ranges.map((): MessageJsonRow[] => []);
  const parts = ranges.flatMap((r, i) =>
    r.limit > 0
      ? [`(SELECT ${i}, id, tag, ${messageJsonExpression(r.topic, r.queueId)} FROM ${quotedTable(r.table)} WHERE id > ${Math.trunc(r.afterId)} ORDER BY id LIMIT ${Math.trunc(r.limit)})`]
      : [],
  );
  if (parts.length === 0) return out;
  const rows = await rawArrayQuery<[number, number | string, string | null, Buffer]>(pool, parts.join(' UNION ALL '));
  for (const r of rows) out[r[0]]!.push({ id: Number(r[1]), tag: r[2], json: r[3] });
  // A UNION ALL keeps each branch's ORDER BY in practice, but SQL does not promise it.
  for (const list of out) {
    if (list.some((m, i) => i > 0 && m.id < list[i - 1]!.id)) list.sort((a, b) => a.id - b.id);
  }
  return out;
}
