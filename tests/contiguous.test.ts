import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scanContiguous } from '../broker/consume/contiguous';

const rows = (...ids: number[]) => ids.map((id) => ({ id }));
const never = async () => false;
const always = async () => true;

describe('contiguous scan (the in-flight gap)', () => {
  test('a gap-free run is delivered whole', async () => {
    const r = await scanContiguous(rows(5, 6, 7, 8), 4, 1, never);
    assert.deepEqual(r.rows.map((x) => x.id), [5, 6, 7, 8]);
    assert.equal(r.blocked, false);
  });

  test('a hole that may still fill stops the scan before it', async () => {
    const r = await scanContiguous(rows(5, 6, 8, 9), 4, 1, never);
    assert.deepEqual(r.rows.map((x) => x.id), [5, 6]);
    assert.equal(r.blocked, true);
  });

  test('a hole right after the position blocks everything', async () => {
    const r = await scanContiguous(rows(7, 8), 5, 1, never);
    assert.deepEqual(r.rows, []);
    assert.equal(r.blocked, true);
  });

  test('a permanent hole is passed and counted', async () => {
    const asked: [number, number][] = [];
    const r = await scanContiguous(rows(5, 9, 10), 4, 1, async (a, b) => {
      asked.push([a, b]);
      return true;
    });
    assert.deepEqual(r.rows.map((x) => x.id), [5, 9, 10]);
    assert.deepEqual(asked, [[5, 9]]);
    assert.equal(r.holesSkipped, 1);
  });

  test('with auto_increment_increment 3, ids three apart are contiguous', async () => {
    const r = await scanContiguous(rows(4, 7, 10, 16), 1, 3, never);
    assert.deepEqual(r.rows.map((x) => x.id), [4, 7, 10]);
    assert.equal(r.blocked, true);
  });

  test('the first hole decides: later holes are not checked once blocked', async () => {
    let checks = 0;
    await scanContiguous(rows(3, 6, 9), 1, 1, async () => {
      checks++;
      return false;
    });
    assert.equal(checks, 1);
  });

  test('an empty read is not blocked', async () => {
    const r = await scanContiguous([], 10, 1, always);
    assert.deepEqual(r, { rows: [], holesSkipped: 0, blocked: false });
  });
});
