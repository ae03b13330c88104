import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { keyHash, queueForKey, QueueRouter } from '../broker/produce/routing';
import type { Queue } from '../shared/metadata/rows';

const queues = [1, 2, 3].map((id) => ({ id }) as Queue);

describe('queue routing', () => {
  test('unkeyed messages of one event-loop turn share a queue; each turn takes the next queue', async () => {
    const router = new QueueRouter();
    const picked: number[] = [];
    for (let turn = 0; turn < 6; turn++) {
      const inTurn = [router.forUnkeyed(7, queues), router.forUnkeyed(7, queues), router.forUnkeyed(7, queues)];
      assert.equal(new Set(inTurn).size, 1, `turn ${turn}: one queue`);
      picked.push(inTurn[0]!.id);
      await nextTurn();
    }
    assert.deepEqual(picked, [1, 2, 3, 1, 2, 3]);
  });

  test('topics rotate independently, and a queue that stopped being writable is not kept', async () => {
    const router = new QueueRouter();
    assert.equal(router.forUnkeyed(1, queues).id, 1);
    assert.equal(router.forUnkeyed(2, queues).id, 1);
    assert.equal(router.forUnkeyed(1, queues.slice(1)).id, 3, 'queue 1 left the writable set: the next pick');
  });

  test('a key always maps to the same queue', () => {
    for (const key of ['a', 'customer-7', 'é😀']) {
      assert.equal(queueForKey(queues, key), queues[keyHash(key) % 3]);
    }
  });
});
