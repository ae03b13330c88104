/**
 * How a write's rows for one queue table become INSERT statements: a text INSERT with the values
 * as literals, or a prepared INSERT whose values travel in MySQL's binary protocol.
 *
 * Why both: MariaDB lexes every byte of a text INSERT's literals; for 1 KB bodies that was ~40% of
 * its CPU per row here (17.7 µs/row text vs 11.4 prepared, 4 connections writing 4 tables x 25 rows
 * per transaction, 72k vs 103-112k rows/s). But a prepared statement costs a round trip per
 * execution, where text INSERTs for every table and the COMMIT share one; so small groups of rows
 * stay text.
 *
 * A prepared statement's shape is fixed by its row count, and each shape is a server-side statement
 * per connection (bounded by `max_prepared_stmt_count`). So prepared INSERTs use only the row
 * counts of a fixed ladder (steps of about 1.25x): a group of n rows is written as ladder-sized
 * chunks, and what is left below the smallest step goes first, as text, so ids stay in row order.
 */

/** Row counts a prepared INSERT may have. The top stays below MySQL's 65,535 placeholders (6 per row). */
export const PREPARED_ROW_COUNTS: readonly number[] = [
  8, 10, 12, 16, 20, 25, 32, 40, 50, 64, 80, 100, 128, 160, 200, 256, 320, 400, 500, 640, 800, 1000, 1280, 1600, 2000, 2560, 3200, 4000, 5000, 6400, 8000,
];
const SMALLEST = PREPARED_ROW_COUNTS[0]!;

/** Below this many bytes for one table, a write's rows stay text: the saved lexing is worth less than a round trip. */
export const PREPARED_MIN_BYTES = 8 * 1024;

/** Rows [from, from + count) of one batch, as one statement. */
export interface PlannedInsert {
  batch: number;
  from: number;
  count: number;
  prepared: boolean;
}

/** The largest ladder step that is at most n (n >= SMALLEST). */
function stepAtMost(n: number): number {
  let best = SMALLEST;
  for (const step of PREPARED_ROW_COUNTS) {
    if (step > n) break;
    best = step;
  }
  return best;
}

/**
 * Statements for each batch (a table's rows of one write), in execution order per batch: the text
 * part first, then the prepared chunks. `bytesOf[b]` is about what batch b's rows weigh.
 */
export function planInserts(rowsOf: readonly number[], bytesOf: readonly number[]): PlannedInsert[] {
  const plan: PlannedInsert[] = [];
  rowsOf.forEach((n, batch) => {
    if (n < SMALLEST || bytesOf[batch]! < PREPARED_MIN_BYTES) {
      plan.push({ batch, from: 0, count: n, prepared: false });
      return;
    }
    const chunks: number[] = [];
    let rest = n;
    while (rest >= SMALLEST) {
      const step = stepAtMost(rest);
      chunks.push(step);
      rest -= step;
    }
    if (rest > 0) plan.push({ batch, from: 0, count: rest, prepared: false });
    let from = rest;
    for (const count of chunks) {
      plan.push({ batch, from, count, prepared: true });
      from += count;
    }
  });
  return plan;
}
