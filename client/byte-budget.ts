/**
 * A byte budget with a FIFO of waiters: what bounds the producer's memory. Bytes are taken when a
 * message enters the buffer and given back when its request is answered. A waiter is admitted
 * only when everything queued before it was, so waiting callers keep their order.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiters: { bytes: number; admit: () => void }[] = [];

  constructor(readonly limit: number) {}

  get usedBytes(): number {
    return this.used;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes `bytes` now if they fit and nobody waits ahead; returns false otherwise. */
  tryTake(bytes: number): boolean {
    if (this.waiters.length > 0 || this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** Calls `admit` once `bytes` are taken for it, after the waiters ahead of it. */
  wait(bytes: number, admit: () => void): void {
    this.waiters.push({ bytes, admit });
  }

  give(bytes: number): void {
    this.used -= bytes;
    while (this.waiters.length > 0 && this.used + this.waiters[0]!.bytes <= this.limit) {
      const next = this.waiters.shift()!;
      this.used += next.bytes;
      next.admit();
    }
  }

}
