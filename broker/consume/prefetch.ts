/**
 * Reads started for a consumer's next pull as soon as its last one answered full (a consumer
 * draining a backlog asks again within milliseconds, from exactly where that answer ended).
 * Bounded: a reading not taken within `ttlMs` is dropped, and none starts while the readings held
 * add up to more than `maxBytes`. A prefetched reading is a hint like any read-ahead: the pull
 * that takes it still checks ownership and starting ids before handing anything out.
 */
export class Prefetches<T> {
  private readonly held = new Map<string, { reading: Promise<T | undefined>; bytes: number; timer: NodeJS.Timeout }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly ttlMs: number,
    private readonly sizeOf: (value: T) => number,
  ) {}

  /** Starts `read` for `key`, replacing any reading held for it, unless the byte budget is spent. */
  start(key: string, read: () => Promise<T>): void {
    this.drop(key);
    if (this.bytes >= this.maxBytes) return;
    const entry = { reading: read().catch(() => undefined), bytes: 0, timer: setTimeout(() => this.drop(key), this.ttlMs) };
    entry.timer.unref();
    this.held.set(key, entry);
    void entry.reading.then((value) => {
      if (value === undefined || this.held.get(key) !== entry) return;
      entry.bytes = this.sizeOf(value);
      this.bytes += entry.bytes;
    });
  }

  /** The reading held for `key`, if any (it is no longer held afterwards). */
  take(key: string): Promise<T | undefined> | undefined {
    const entry = this.held.get(key);
    if (entry) this.drop(key);
    return entry?.reading;
  }

  private drop(key: string): void {
    const entry = this.held.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.bytes -= entry.bytes;
    this.held.delete(key);
  }

  /** Bytes of the readings held (for metrics and tests). */
  get heldBytes(): number {
    return this.bytes;
  }
}
