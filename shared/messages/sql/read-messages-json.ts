import type { Pool } from 'mysql2/promise';
import type { MessageJsonRow } from '../message';
import { quotedTable } from '../queue-table';
import { messageJsonExpression } from './message-json';

/** A range of one queue to read: ids after `afterId`, at most `limit` rows and about `maxBytes`. */
export interface QueueRange {
  table: string;
  topic: string;
  queueId: number;
  afterId: number;
  limit: number;
  /** Rows are kept while their JSON adds up to at most this; the first row is always kept. */
  maxBytes: number;
}

/** What the read of one range gave. */
export interface RangeRead {
  /** The rows kept, in id order: a prefix of the range. */
  rows: MessageJsonRow[];
  /** Rows the database returned, kept or not (fewer than the limit: the table ended there). */
  returned: number;
  /** A row was left out because the byte bound was reached. */
  truncated: boolean;
  /** The JSON bytes of the largest row returned (0 when none). */
  largestRow: number;
}

/**
 * The pull's read. Committed messages after each range's `afterId`, in id order, as API JSON (see
 * messageJsonExpression): one result per range. A consistent read: it never waits. All ranges go
 * in ONE statement (a UNION ALL of per-queue range reads), since every statement costs a round trip
 * and socket writes on both sides; rows come back as arrays, not one object per row.
 *
 * Rows are taken as they arrive, so that a range's byte bound holds for what the broker keeps: the
 * rows after the bound are dropped one by one (the caller sizes `limit` so that few are).
 */
export function readMessagesJson(pool: Pool, ranges: readonly QueueRange[]): Promise<RangeRead[]> {
  const out = ranges.map((): RangeRead => ({ rows: [], returned: 0, truncated: false, largestRow: 0 }));
  const bytes = ranges.map(() => 0);
  const lastReturned = ranges.map(() => 0);
  const minDropped = ranges.map(() => Infinity);
  let unordered = false;
  const parts = ranges.flatMap((r, i) =>
    r.limit > 0
      ? [`(SELECT ${i}, id, tag, ${messageJsonExpression(r.topic, r.queueId)} FROM ${quotedTable(r.table)} WHERE id > ${Math.trunc(r.afterId)} ORDER BY id LIMIT ${Math.trunc(r.limit)})`]
      : [],
  );
  if (parts.length === 0) return Promise.resolve(out);
  return new Promise<RangeRead[]>((resolve, reject) => {
    pool.pool
      .query({ sql: parts.join(' UNION ALL '), rowsAsArray: true })
      .on('result', (row: unknown) => {
        const [i, rawId, tag, json] = row as [number, number | string, string | null, Buffer];
        const id = Number(rawId);
        const read = out[i]!;
        read.returned++;
        read.largestRow = Math.max(read.largestRow, json.length);
        // Each branch's ORDER BY holds in the UNION ALL's output in practice, but SQL does not
        // promise it: a row out of order is kept whatever its size, and the end sorts it out.
        if (id < lastReturned[i]!) unordered = true;
        else if (read.truncated || (read.rows.length > 0 && bytes[i]! + json.length > ranges[i]!.maxBytes)) {
          read.truncated = true;
          minDropped[i] = Math.min(minDropped[i]!, id);
          return;
        }
        lastReturned[i] = Math.max(lastReturned[i]!, id);
        bytes[i]! += json.length;
        read.rows.push({ id, tag, json });
      })
      .on('error', reject)
      .on('end', () => resolve(unordered ? out.map((read, i) => prefixOf(read, minDropped[i]!, ranges[i]!.maxBytes)) : out));
  });
}

/** For rows that arrived out of order: in id order, below the first row dropped, within the bytes. */
function prefixOf(read: RangeRead, minDropped: number, maxBytes: number): RangeRead {
  const sorted = read.rows.filter((m) => m.id < minDropped).sort((a, b) => a.id - b.id);
  let bytes = 0;
  let n = 0;
  while (n < sorted.length && (n === 0 || bytes + sorted[n]!.json.length <= maxBytes)) bytes += sorted[n++]!.json.length;
  return { ...read, rows: sorted.slice(0, n), truncated: read.truncated || n < read.rows.length };
}
