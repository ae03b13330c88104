/**
 * A read shared by every scrape within `ttlMs` of it (concurrent scrapes share one read too), so
 * a Prometheus server scraping often costs the databases one read per period at most. A failed
 * read answers with the last good value, or rejects when there is none yet.
 */
export class CachedRead<T> {
  private last: { at: number; value: T } | undefined;
  private reading: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  get(): Promise<T> {
    if (this.last && Date.now() - this.last.at < this.ttlMs) return Promise.resolve(this.last.value);
    this.reading ??= this.read()
      .then(
        (value) => {
          this.last = { at: Date.now(), value };
          return value;
        },
        (err: unknown) => {
          this.onError(err);
          if (this.last) return this.last.value;
          throw err;
        },
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
