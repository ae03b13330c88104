/**
 * The long-polls waiting on this broker, by consumer ("group:consumer"), so that a consumer
 * leaving through this broker ends its own waiting pulls at once instead of at their next poll.
 */
export class WaitingPulls {
  private readonly byConsumer = new Map<string, Set<() => void>>();
  private count = 0;

  /** Registers a waiting pull's wake-up; returns its removal. */
  add(consumerKey: string, wake: () => void): () => void {
    let wakes = this.byConsumer.get(consumerKey);
    if (!wakes) this.byConsumer.set(consumerKey, (wakes = new Set()));
    wakes.add(wake);
    this.count++;
    return () => {
      if (!wakes.delete(wake)) return;
      this.count--;
      if (wakes.size === 0 && this.byConsumer.get(consumerKey) === wakes) this.byConsumer.delete(consumerKey);
    };
  }

  /** Wakes every pull of the consumer now waiting here. */
  wake(consumerKey: string): void {
    for (const wake of [...(this.byConsumer.get(consumerKey) ?? [])]) wake();
  }

  /** Pulls waiting now (a gauge). */
  get size(): number {
    return this.count;
  }
}

export const consumerKey = (groupId: number, consumerId: number): string => `${groupId}:${consumerId}`;
