import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteBudget } from '../client/byte-budget';
import { BrokerResponseError } from '../client/errors';
import type { ReceivedMessage } from '../client/messages';
import { offendingIndexes } from '../client/producer';
import { QueueTracker } from '../client/queue-tracker';
import { retryAfterMs } from '../client/transport';

const msg = (queueId: number, id: number): ReceivedMessage => ({
  topic: 't', queueId, id, body: id, key: null, tag: null, traceId: null, headers: null, retryCount: 0, createdAt: '',
});

describe('client queue tracker', () => {
  test('positions follow accepted answers and are sent back in the next pull', () => {
    const tr = new QueueTracker();
    const { chunks } = tr.accept({ generation: 3, messages: [msg(1, 1), msg(1, 2), msg(2, 7)], positions: [{ queueId: 1, offset: 2 }, { queueId: 2, offset: 9 }] }, tr.snapshot(), []);
    assert.deepEqual(chunks.map((c) => [c.queueId, c.messages.map((m) => m.id), c.position, c.generation]), [[1, [1, 2], 2, 3], [2, [7], 9, 3]]);
    assert.deepEqual(tr.positions(), [{ queueId: 1, offset: 2 }, { queueId: 2, offset: 9 }]);
  });

  test('an answer to a pull sent before a queue was dropped is ignored for that queue', () => {
    const tr = new QueueTracker();
    tr.accept({ generation: 1, messages: [], positions: [{ queueId: 1, offset: 5 }, { queueId: 2, offset: 5 }] }, tr.snapshot(), []);
    const before = tr.snapshot();
    tr.drop(1);
    const { chunks } = tr.accept({ generation: 1, messages: [msg(1, 6), msg(2, 6)], positions: [{ queueId: 1, offset: 6 }, { queueId: 2, offset: 6 }] }, before, [1, 2]);
    assert.deepEqual(chunks.map((c) => c.queueId), [2]);
    assert.deepEqual(tr.positions(), [{ queueId: 2, offset: 6 }], 'the dropped queue starts again at its committed offset');
  });

  test('a named queue the answer no longer covers is reported lost', () => {
    const tr = new QueueTracker();
    tr.accept({ generation: 1, messages: [], positions: [{ queueId: 1, offset: 5 }, { queueId: 2, offset: 5 }] }, tr.snapshot(), []);
    const { lost } = tr.accept({ generation: 2, messages: [], positions: [{ queueId: 2, offset: 5 }] }, tr.snapshot(), [1, 2]);
    assert.deepEqual(lost, [1]);
  });

  test('commits name the generation of the pull that started reading each queue, not a later one', () => {
    const tr = new QueueTracker();
    const first = tr.accept({ generation: 4, messages: [], positions: [{ queueId: 1, offset: 3 }] }, tr.snapshot(), []).chunks[0]!;
    // A later pull, after the group generation moved, continues queue 1 and starts queue 2.
    const later = tr.accept({ generation: 6, messages: [], positions: [{ queueId: 1, offset: 5 }, { queueId: 2, offset: 3 }] }, tr.snapshot(), [1]).chunks;
    assert.deepEqual(later.map((c) => [c.queueId, c.generation]), [[1, 4], [2, 6]]);
    tr.processed(1, first.epoch, 5);
    tr.processed(2, later[1]!.epoch, 2);
    tr.processed(2, later[1]!.epoch, 1); // never backwards
    assert.deepEqual(tr.takeCommits(), [{ generation: 4, offsets: [{ queueId: 1, offset: 5 }] }, { generation: 6, offsets: [{ queueId: 2, offset: 2 }] }]);
    assert.deepEqual(tr.takeCommits(), [], 'committed once');
    tr.recommitAll();
    assert.deepEqual(tr.takeCommits().flatMap((b) => b.offsets), [{ queueId: 1, offset: 5 }, { queueId: 2, offset: 2 }], 'and again when asked');
  });

  test('work of a dropped epoch is ignored', () => {
    const tr = new QueueTracker();
    const chunk = tr.accept({ generation: 1, messages: [], positions: [{ queueId: 2, offset: 3 }] }, tr.snapshot(), []).chunks[0]!;
    tr.drop(2);
    tr.processed(2, chunk.epoch, 3);
    assert.deepEqual(tr.takeCommits(), []);
  });

  test('restore puts back a commit that was not applied, unless the queue moved on or was dropped', () => {
    const tr = new QueueTracker();
    const { chunks } = tr.accept({ generation: 1, messages: [], positions: [{ queueId: 1, offset: 9 }, { queueId: 2, offset: 9 }] }, tr.snapshot(), []);
    tr.processed(1, chunks[0]!.epoch, 4);
    tr.processed(2, chunks[1]!.epoch, 4);
    const snap = tr.snapshot();
    const [batch] = tr.takeCommits();
    tr.processed(1, chunks[0]!.epoch, 6);
    tr.drop(2);
    tr.restore(batch!, snap);
    assert.deepEqual(tr.takeCommits(), [{ generation: 1, offsets: [{ queueId: 1, offset: 6 }] }]);
  });

  test('a heartbeat judges only queues known before it was sent', () => {
    const tr = new QueueTracker();
    tr.accept({ generation: 1, messages: [], positions: [{ queueId: 1, offset: 0 }] }, tr.snapshot(), []);
    const mark = tr.mark();
    tr.accept({ generation: 2, messages: [], positions: [{ queueId: 2, offset: 0 }] }, tr.snapshot(), []);
    assert.deepEqual(tr.knownBefore(mark), [1]);
  });
});

describe('client producer helpers', () => {
  const err = (status: number, details: unknown) => new BrokerResponseError(status, 'X', 'x', details, 'http://b');

  test('offendingIndexes reads schema paths and details.index, and gives up on anything else', () => {
    assert.deepEqual(offendingIndexes(err(400, [{ path: '/messages/2/key' }, { path: '/messages/0' }]), 3), new Set([2, 0]));
    assert.deepEqual(offendingIndexes(err(413, { index: 1 }), 3), new Set([1]));
    assert.equal(offendingIndexes(err(400, [{ path: '/messages' }]), 3), undefined);
    assert.equal(offendingIndexes(err(400, { index: 5 }), 3), undefined);
    assert.equal(offendingIndexes(err(404, { index: 0 }), 3), undefined);
  });

  test('retryAfterMs reads seconds and HTTP dates', () => {
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(retryAfterMs(null), undefined);
    assert.equal(retryAfterMs('soon'), undefined);
  });

  test('the byte budget admits waiters in order, only when they fit', () => {
    const budget = new ByteBudget(10);
    const admitted: string[] = [];
    assert.equal(budget.tryTake(6), true);
    assert.equal(budget.tryTake(5), false);
    budget.wait(5, () => admitted.push('a'));
    assert.equal(budget.tryTake(1), false, 'nobody overtakes a waiter');
    budget.wait(4, () => admitted.push('b'));
    budget.give(6);
    assert.deepEqual(admitted, ['a', 'b']);
    assert.equal(budget.usedBytes, 9);
  });
});
