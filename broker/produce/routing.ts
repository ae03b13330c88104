import type { Queue } from '../../shared/metadata/rows';

/** FNV-1a over the key's UTF-8 bytes: cheap, stable across processes and releases. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(key, 'utf8');
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Picks a queue per message: by key hash when a key is given (stable while the writable queue set
 * is unchanged), else round-robin per topic, one step per message so a batch spreads evenly.
 */
export class QueueRouter {
  private readonly counters = new Map<number, number>();

  pick(topicId: number, writable: readonly Queue[], key: string | null): Queue {
    if (key !== null) return writable[keyHash(key) % writable.length]!;
    const n = this.counters.get(topicId) ?? 0;
    this.counters.set(topicId, (n + 1) % 1_000_000_007);
    return writable[n % writable.length]!;
  }
}
