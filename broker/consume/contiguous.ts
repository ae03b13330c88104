/**
 * The in-flight gap (docs/architecture.md, "The in-flight gap"). Auto-increment ids are handed out before commit, so a
 * reader can see id 11 while id 10 is still being written. The pull path therefore hands out only
 * the contiguous run of ids after a position, and passes a hole only once it is proven permanent:
 * the row after it is older than the grace period (by the node's clock) and a locking read of the
 * hole finds nothing (it waits out any insert into the range that is still in flight).
 */

export interface ScannedRow {
  id: number;
}

/** Decides whether the ids strictly between `afterId` and `beforeId` will never appear. */
export type HoleCheck = (afterId: number, beforeId: number) => Promise<boolean>;

export interface ScanResult<T extends ScannedRow> {
  /** Rows that may be handed out, in id order. */
  rows: T[];
  /** Holes passed over for good (rolled-back inserts, retention deletes). */
  holesSkipped: number;
  /** True when the scan stopped at a hole that may still fill. */
  blocked: boolean;
}

/**
 * Walks rows (ascending ids, all > afterId) and keeps the prefix that is safe to deliver.
 * `idStep` is the node's @@auto_increment_increment: consecutive ids of one writer differ by it.
 */
export async function scanContiguous<T extends ScannedRow>(
  rows: readonly T[],
  afterId: number,
  idStep: number,
  isPermanentHole: HoleCheck,
): Promise<ScanResult<T>> {
  const safe: T[] = [];
  let previous = afterId;
  let holesSkipped = 0;
  for (const row of rows) {
    if (row.id <= previous) throw new Error(`rows out of order: ${row.id} after ${previous}`);
    if (row.id - previous > idStep) {
      if (!(await isPermanentHole(previous, row.id))) return { rows: safe, holesSkipped, blocked: true };
      holesSkipped++;
    }
    safe.push(row);
    previous = row.id;
  }
  return { rows: safe, holesSkipped, blocked: false };
}
