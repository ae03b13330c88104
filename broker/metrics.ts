import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The broker's Prometheus series (GET /metrics), on prom-client. One registry per broker
 * instance, never the library's global one: tests and tools run several brokers in one process.
 * The hot paths only call inc/observe on the objects below.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly produced = this.counter('tablemq_messages_produced_total', 'Messages committed to a queue table by this broker', ['topic']);
  readonly inserts = this.counter('tablemq_insert_statements_total', 'Multi-row INSERT statements run by this broker', ['node']);
  readonly writes = this.counter(
    'tablemq_produce_writes_total',
    'Group commits run by this broker: one transaction (one fsync) carrying INSERTs for any queues of a node',
    ['node'],
  );
  readonly pulled = this.counter('tablemq_messages_pulled_total', 'Messages handed out by pulls on this broker', ['topic']);
  readonly prefetchUsed = this.counter('tablemq_pull_prefetch_used_total', 'Pulls answered from a read started when the previous full answer went out');
  readonly commits = this.counter('tablemq_offset_commits_total', 'Commit requests accepted by this broker');
  readonly holesSkipped = this.counter('tablemq_id_holes_skipped_total', 'Id holes passed for good by the pull path', ['queue']);
  readonly holesWaited = this.counter(
    'tablemq_id_holes_waited_total',
    'Times a pull stopped at an id hole that may still fill (too young, or its insert still running) and waited for a later read',
    ['queue'],
  );
  readonly postponed = this.counter(
    'tablemq_scheduled_postponed_total',
    'Due scheduled messages (delays, retries, dead moves) this broker could not deliver and put off with a backoff',
    ['topic'],
  );
  readonly rejected = this.counter('tablemq_produce_overloaded_total', 'Produce requests refused with 503 because too much was pending');
  readonly requestSeconds = new Histogram({
    name: 'tablemq_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern (not the raw path), method and status',
    labelNames: ['method', 'route', 'status'],
    // Produce and pull answer in milliseconds; long-polls last up to pullMaxWaitMs.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private counter<L extends string = never>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge without labels, read when /metrics is scraped. */
  gauge(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  /**
   * A labelled gauge whose every value is read at scrape time: `read` returns the current set of
   * label values, and those not returned disappear (a deleted queue leaves no stale series).
   */
  labelledGauge<L extends string>(name: string, help: string, labelNames: L[], read: () => Promise<{ labels: Record<L, string | number>; value: number }[]>): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const values = await read();
        this.reset();
        for (const v of values) this.set(v.labels, v.value);
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
