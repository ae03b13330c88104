import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planInserts, PREPARED_MIN_BYTES, PREPARED_ROW_COUNTS } from '../broker/produce/group-commit/insert-plan';

const KB = 1024;

describe('insert plan', () => {
  test('a group below the smallest step or the byte threshold is one text INSERT', () => {
    assert.deepEqual(planInserts([7], [7 * 10 * KB]), [{ batch: 0, from: 0, count: 7, prepared: false }]);
    assert.deepEqual(planInserts([500], [PREPARED_MIN_BYTES - 1]), [{ batch: 0, from: 0, count: 500, prepared: false }]);
  });

  test('a group of a ladder size is one prepared INSERT', () => {
    assert.deepEqual(planInserts([25, 100], [25 * KB, 100 * KB]), [
      { batch: 0, from: 0, count: 25, prepared: true },
      { batch: 1, from: 0, count: 100, prepared: true },
    ]);
  });

  test('the rest below the smallest step goes first, as text, so ids follow row order', () => {
    assert.deepEqual(planInserts([37], [37 * KB]), [
      { batch: 0, from: 0, count: 5, prepared: false },
      { batch: 0, from: 5, count: 32, prepared: true },
    ]);
  });

  test('every group is covered exactly, in order, with prepared row counts from the ladder only', () => {
    const ladder = new Set(PREPARED_ROW_COUNTS);
    for (let n = 1; n <= 3000; n++) {
      const plan = planInserts([n], [n * KB]);
      let next = 0;
      for (const p of plan) {
        assert.equal(p.from, next, `n=${n}: contiguous`);
        next += p.count;
        if (p.prepared) assert.ok(ladder.has(p.count), `n=${n}: ${p.count} is a ladder step`);
      }
      assert.equal(next, n, `n=${n}: all rows`);
      assert.ok(plan.filter((p) => !p.prepared).length <= 1 && plan.findIndex((p) => !p.prepared) <= 0, `n=${n}: at most one text part, first`);
      assert.ok(plan.length <= 5, `n=${n}: ${plan.length} statements`);
    }
  });

  test('prepared INSERTs stay under the 65,535 placeholders of a statement (6 per row)', () => {
    assert.ok(Math.max(...PREPARED_ROW_COUNTS) * 6 < 65_535);
  });
});
