/**
 * A few Prometheus counters and gauges, kept in memory and served as text at GET /metrics.
 * Hand-written on purpose: the hot paths only add to numbers in a Map.
 */
type Labels = Record<string, string | number>;

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, number>;
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly gauges = new Map<string, () => number>();

  private family(name: string, help: string, type: Family['type']): Family {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help, type, values: new Map() }));
    return f;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name, help, 'counter');
    const key = labelText(labels);
    f.values.set(key, (f.values.get(key) ?? 0) + by);
  }

  /** Lists a counter (its HELP and TYPE) before anything has counted it. */
  declare(name: string, help: string): void {
    this.family(name, help, 'counter');
  }

  /** A gauge read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    this.family(name, help, 'gauge');
    this.gauges.set(name, read);
  }

  value(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(labelText(labels)) ?? 0;
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      const read = this.gauges.get(name);
      if (read) lines.push(`${name} ${read()}`);
      for (const [labels, v] of f.values) lines.push(`${name}${labels} ${v}`);
    }
    return lines.join('\n') + '\n';
  }
}

export const METRIC = {
  produced: ['tablemq_messages_produced_total', 'Messages committed to a queue table by this broker'],
  inserts: ['tablemq_insert_statements_total', 'Multi-row INSERT statements run by this broker'],
  writes: ['tablemq_produce_writes_total', 'Group commits run by this broker: one transaction (one fsync) carrying INSERTs for any queues of a node'],
  pulled: ['tablemq_messages_pulled_total', 'Messages handed out by pulls on this broker'],
  prefetchUsed: ['tablemq_pull_prefetch_used_total', 'Pulls answered from a read started when the previous full answer went out'],
  commits: ['tablemq_offset_commits_total', 'Commit requests accepted by this broker'],
  holes: ['tablemq_id_holes_skipped_total', 'Id holes passed for good by the pull path'],
  rejected: ['tablemq_produce_overloaded_total', 'Produce requests refused with 503 because too much was pending'],
  postponed: ['tablemq_scheduled_postponed_total', 'Due scheduled messages (delays, retries, dead moves) this broker could not deliver and put off with a backoff'],
} as const;

/** Counters without labels, which read 0 until they first count. */
const UNLABELED = [METRIC.prefetchUsed, METRIC.commits, METRIC.rejected];

/**
 * Every counter is on /metrics from the start: labelled ones with their HELP and TYPE, unlabelled
 * ones at 0, so that a dashboard or alert on them works before the first event.
 */
export function declareCounters(metrics: Metrics): void {
  for (const [name, help] of Object.values(METRIC)) metrics.declare(name, help);
  for (const [name, help] of UNLABELED) metrics.inc(name, help, {}, 0);
}
