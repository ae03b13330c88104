import type { MessageJsonRow } from '../../shared/messages/message';
import type { ConsumerGroup } from '../../shared/metadata/rows';
import type { QueueView } from '../catalog';
import type { BrokerContext } from '../context';
import type { OwnedQueue } from './ownership-hints';
import { readSafe } from './queue-reader';

export interface Source {
  view: QueueView;
  from: number;
  tags: Set<string> | undefined;
}

/** What one queue gave a pull: the messages to hand out and how far the pull got in the queue. */
export interface QueueTake {
  view: QueueView;
  messages: MessageJsonRow[];
  /** The id up to which this queue was read and handled (delivered, or skipped by the tag filter). */
  position: number | undefined;
}

/**
 * Where the next round-robin take starts, so that when a pull can't take everything no queue is
 * always the one cut short. One per broker (in its context).
 */
export class Rotation {
  private position = 0;

  next(): number {
    this.position = (this.position + 1) % 1_000_000;
    return this.position;
  }
}

/**
 * How many rows to ask of each queue so that one round of reads usually fills the pull: an equal
 * share each, and the shares of queues that looked drained at their last read (the group's empty
 * retry queue, typically) spread over the others. A drained-looking queue is still read with its
 * share, since rows written through another broker are not known here; that bounds what a pull can
 * read and not hand out.
 */
function readLimits(ctx: BrokerContext, sources: readonly Source[], max: number): number[] {
  const share = Math.ceil(max / sources.length);
  const drained = sources.map((s) => ctx.signals.looksDrained(s.view.queue.id, s.from));
  const active = drained.filter((d) => !d).length;
  const spare = active === 0 ? 0 : Math.ceil(((sources.length - active) * share) / active);
  return drained.map((d) => (d ? share : share + spare));
}

/**
 * Reads up to `max` safe messages fairly across the sources: about max/k from each queue first
 * (see readLimits), then more from the queues that had more if that fell short, then takes
 * round-robin (starting at a rotating queue) so no queue starves another. Messages the group's tag
 * filter rejects are passed over, but the queue's position moves past them so the commit does too
 * and lag does not grow.
 */
export async function readFair(ctx: BrokerContext, sources: Source[], max: number): Promise<QueueTake[]> {
  const limits = readLimits(ctx, sources, max);
  const first = await readSafe(ctx, sources.map((s, i) => ({ view: s.view, afterId: s.from, limit: limits[i]! })));
  // Copies: a read may be shared with other pulls (queue-reader.ts), and rows are appended below.
  const reads = sources.map((s, i) => ({ source: s, rows: first[i]!.messages.slice(), more: !first[i]!.blocked && first[i]!.messages.length === limits[i] }));
  const wanted = (s: Source, m: MessageJsonRow) => s.tags === undefined || (m.tag !== null && s.tags.has(m.tag));
  const deliverable = () => reads.reduce((n, r) => n + r.rows.filter((m) => wanted(r.source, m)).length, 0);
  const hungry = reads.filter((r) => r.more);
  const missing = max - deliverable();
  if (missing > 0 && hungry.length > 0) {
    // Split what is still missing over the queues that had more, rather than reading a whole
    // pull's worth from each: rows read and not handed out are read again by the next pull.
    const more = Math.ceil(missing / hungry.length);
    const extra = await readSafe(ctx, hungry.map((r) => ({ view: r.source.view, afterId: r.rows[r.rows.length - 1]!.id, limit: more })));
    hungry.forEach((r, i) => r.rows.push(...extra[i]!.messages));
  }

  const candidates = reads.map((r) => r.rows.filter((m) => wanted(r.source, m)));
  const taken = candidates.map((c) => c.length);
  if (taken.reduce((a, b) => a + b, 0) > max) {
    taken.fill(0);
    for (let n = 0, i = ctx.rotation.next() % reads.length; n < max; i = (i + 1) % reads.length) {
      if (taken[i]! < candidates[i]!.length) {
        taken[i]!++;
        n++;
      }
    }
  }
  return reads.map((r, i) => {
    const messages = candidates[i]!.slice(0, taken[i]);
    const all = taken[i] === candidates[i]!.length;
    // Every deliverable row taken: the position may run on over the filtered rows after it.
    const position = all ? r.rows[r.rows.length - 1]?.id : messages[messages.length - 1]?.id;
    return { view: r.source.view, messages, position };
  });
}

/** The queues to read for a consumer that owns `owned`, from its offsets or the positions given. */
export async function sourcesOf(ctx: BrokerContext, group: ConsumerGroup, owned: readonly OwnedQueue[], positions: ReadonlyMap<number, number>): Promise<Source[]> {
  if ((await ctx.catalog.group(group.name))?.paused ?? false) return [];
  const sources: Source[] = [];
  for (const o of owned) {
    const view = await ctx.catalog.queue(o.queueId);
    if (!view || !view.queue.readable) continue;
    const from = Math.max(o.committedOffset, positions.get(o.queueId) ?? 0);
    sources.push({ view, from, tags: ctx.catalog.tagFilter(group.id, view.topic.id) });
  }
  return sources;
}

export function sameSources(a: readonly Source[], b: readonly Source[]): boolean {
  return a.length === b.length && a.every((s, i) => s.view === b[i]!.view && s.from === b[i]!.from && s.tags === b[i]!.tags);
}

/** A round of reads and the sources it read. */
export interface Reading {
  sources: Source[];
  takes: QueueTake[];
}

/**
 * Reads started before the ownership check answers, from what the consumer owned at its previous
 * pull. A failure here only means the reads are redone after the check (and fail there, if real).
 */
export function readAhead(ctx: BrokerContext, group: ConsumerGroup, owned: readonly OwnedQueue[] | undefined, positions: ReadonlyMap<number, number>, max: number): Promise<Reading | undefined> {
  if (!owned || owned.length === 0) return Promise.resolve(undefined);
  return sourcesOf(ctx, group, owned, positions)
    .then(async (sources) => ({ sources, takes: sources.length > 0 ? await readFair(ctx, sources, max) : [] }))
    .catch(() => undefined);
}

