import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { keyHash, queueForKey, QueueRouter } from '../broker/produce/routing';
import type { Queue } from '../shared/metadata/rows';

const queues = [1, 2, 3].map((id) => ({ id }) as Queue);

describe('queue routing', () => {
  test('unkeyed requests share a queue until a write carrying it starts; then they take the next queue', async () => {
    const router = new QueueRouter();
    const picked: number[] = [];
    for (let write = 0; write < 6; write++) {
      // Requests gathered by one write may arrive over several event-loop turns.
      const gathered = [router.forUnkeyed(7, queues)];
      await nextTurn();
      gathered.push(router.forUnkeyed(7, queues), router.forUnkeyed(7, queues));
      assert.equal(new Set(gathered).size, 1, `write ${write}: one queue`);
      picked.push(gathered[0]!.id);
      router.released(new Set([gathered[0]!.id]));
    }
    assert.deepEqual(picked, [1, 2, 3, 1, 2, 3]);
  });

  test('a write of other queues does not move a topic on', () => {
    const router = new QueueRouter();
    const held = router.forUnkeyed(7, queues);
    router.released(new Set([99]));
    assert.equal(router.forUnkeyed(7, queues), held);
  });

  test('topics rotate independently, and a queue that stopped being writable is not kept', async () => {
    const router = new QueueRouter();
    assert.equal(router.forUnkeyed(1, queues).id, 1);
    assert.equal(router.forUnkeyed(2, queues).id, 1);
    assert.equal(router.forUnkeyed(1, queues.slice(1)).id, 3, 'queue 1 left the writable set: the next pick');
  });

  test('key hashes are pinned: the same key lands in the same queue in every release', () => {
    // FNV-1a (32 bit) over UTF-8: the first three are the algorithm's published test vectors.
    const pinned: [string, number][] = [
      ['', 0x811c9dc5],
      ['a', 0xe40c292c],
      ['foobar', 0xbf9cf968],
      ['customer-7', 0x104faef1],
      ['é😀', 0x039d63cc],
      ['order-12345', 0x4ab4d48d],
    ];
    for (const [key, hash] of pinned) assert.equal(keyHash(key), hash, `hash of ${JSON.stringify(key)}`);
    const eight = Array.from({ length: 8 }, (_, i) => ({ id: i + 1 }) as Queue);
    assert.deepEqual(
      pinned.map(([key]) => queueForKey(eight, key).id),
      [6, 5, 1, 2, 5, 6],
      'queue of each key among 8 writable queues',
    );
  });

  test('a key always maps to the same queue', () => {
    for (const key of ['a', 'customer-7', 'é😀']) {
      assert.equal(queueForKey(queues, key), queues[keyHash(key) % 3]);
    }
  });
});
