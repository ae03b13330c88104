import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueueSignals } from '../broker/signals';

describe('queue signals', () => {
  test('a queue looks drained from where a read found its end, until a newer row is heard of', () => {
    const s = new QueueSignals();
    assert.equal(s.looksDrained(1, 0), false, 'never read: unknown');
    s.endSeen(1, 10);
    assert.equal(s.looksDrained(1, 10), true);
    assert.equal(s.looksDrained(1, 7), false, 'rows 8..10 are still ahead of a reader at 7');
    s.appended(1, 11);
    assert.equal(s.looksDrained(1, 10), false, 'a produce through this broker added a row');
    assert.equal(s.looksDrained(2, 10), false, 'per queue');
  });

  test('the end of a read is never taken as a row that exists', () => {
    const s = new QueueSignals();
    s.endSeen(1, 1_000_000); // a pull positioned far past the table's end reads nothing
    assert.equal(s.knownMaxId(1), 0, 'commits up to that id still check MAX(id)');
  });
});
