/** What a consumer owned at its last pull on this broker: queue ids and committed offsets. */
export interface OwnedQueue {
  queueId: number;
  committedOffset: number;
}

/** Consumers remembered per broker; the least recently used are forgotten past this. */
const MAX_CONSUMERS = 10_000;

/**
 * The queues each consumer owned at its last pull on this broker, so the next pull can start
 * reading them while it checks liveness and ownership in the metadata DB, instead of after. A hint
 * only: the pull hands out nothing unless the fresh check names the same queues and offsets.
 */
export class OwnershipHints {
  private readonly byConsumer = new Map<string, OwnedQueue[]>();

  get(groupId: number, consumerId: number): OwnedQueue[] | undefined {
    const key = `${groupId}:${consumerId}`;
    const owned = this.byConsumer.get(key);
    if (owned) {
      // Map order is insertion order: moving the entry to the end keeps the oldest first.
      this.byConsumer.delete(key);
      this.byConsumer.set(key, owned);
    }
    return owned;
  }

  set(groupId: number, consumerId: number, owned: OwnedQueue[]): void {
    const key = `${groupId}:${consumerId}`;
    this.byConsumer.delete(key);
    this.byConsumer.set(key, owned);
    if (this.byConsumer.size > MAX_CONSUMERS) this.byConsumer.delete(this.byConsumer.keys().next().value!);
  }

  /** After a commit through this broker: the offsets the next pull will start from. */
  committed(groupId: number, consumerId: number, offsets: readonly { queueId: number; offset: number }[]): void {
    const owned = this.byConsumer.get(`${groupId}:${consumerId}`);
    if (!owned) return;
    for (const o of offsets) {
      const queue = owned.find((q) => q.queueId === o.queueId);
      if (queue && o.offset > queue.committedOffset) queue.committedOffset = o.offset;
    }
  }

  forget(groupId: number, consumerId: number): void {
    this.byConsumer.delete(`${groupId}:${consumerId}`);
  }
}
