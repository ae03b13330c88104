import type { MessageJsonRow } from '../../shared/messages/message';
import type { ConsumerGroup } from '../../shared/metadata/rows';
import type { QueueView } from '../catalog';
import type { BrokerContext } from '../context';
import type { OwnedQueue } from './ownership-hints';
import { readSafe, type SafeRead } from './queue-reader';

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

/** How much one pull may hand out: messages, and bytes of their JSON (one message always). */
export interface PullBounds {
  max: number;
  maxBytes: number;
}

/** What a round of reads hands out, and whether the bounds cut it (so more may be waiting). */
export interface FairRead {
  takes: QueueTake[];
  full: boolean;
}

/**
 * How much to ask of each queue so that one round of reads usually fills the pull: an equal share
 * of rows and bytes each, and the shares of queues that looked drained at their last read (the
 * group's empty retry queue, typically) spread over the others. A drained-looking queue is still
 * read with its share, since rows written through another broker are not known here; that bounds
 * what a pull can read and not hand out (twice the bounds at worst). A queue whose last read here
 * had large rows is asked for no more rows than its byte share holds at that size, so that few rows
 * are read only to be dropped by the byte bound.
 */
function readLimits(ctx: BrokerContext, sources: readonly Source[], bounds: PullBounds): { limit: number; maxBytes: number }[] {
  const drained = sources.map((s) => ctx.signals.looksDrained(s.view.queue.id, s.from));
  const active = drained.filter((d) => !d).length;
  const shares = (total: number) => {
    const share = Math.ceil(total / sources.length);
    const spare = active === 0 ? 0 : Math.ceil(((sources.length - active) * share) / active);
    return drained.map((d) => (d ? share : share + spare));
  };
  const rows = shares(bounds.max);
  const bytes = shares(bounds.maxBytes);
  return sources.map((s, i) => ({ limit: rowsWithin(ctx, s, rows[i]!, bytes[i]!), maxBytes: bytes[i]! }));
}

function rowsWithin(ctx: BrokerContext, source: Source, rows: number, maxBytes: number): number {
  const size = ctx.signals.expectedRowSize(source.view.queue.id);
  return size === undefined || size === 0 ? rows : Math.max(1, Math.min(rows, Math.floor(maxBytes / size)));
}

const bytesOf = (rows: readonly MessageJsonRow[]) => rows.reduce((n, m) => n + m.json.length, 0);

/**
 * Reads up to `max` safe messages, and about `maxBytes` of them, fairly across the sources: about
 * a k-th from each queue first (see readLimits), then more from the queues that had more if that
 * fell short, then takes round-robin (starting at a rotating queue) so no queue starves another,
 * until `max` messages or the next would pass `maxBytes` (the first is taken whatever its size, so
 * a huge message cannot stall its queue). What the reads keep is bounded the same way, give or
 * take a message per queue. Messages the group's tag filter rejects are passed over, but the
 * queue's position moves past them so the commit does too and lag does not grow.
 */
export async function readFair(ctx: BrokerContext, sources: Source[], bounds: PullBounds): Promise<FairRead> {
  const { max, maxBytes } = bounds;
  const limits = readLimits(ctx, sources, bounds);
  const first = await readSafe(ctx, sources.map((s, i) => ({ view: s.view, afterId: s.from, ...limits[i]! })));
  // Copies: a read may be shared with other pulls (queue-reader.ts), and rows are appended below.
  const hadMore = (read: SafeRead, limit: number) => !read.blocked && (read.truncated || read.messages.length === limit);
  const reads = sources.map((s, i) => ({ source: s, rows: first[i]!.messages.slice(), more: hadMore(first[i]!, limits[i]!.limit) }));
  const wanted = (s: Source, m: MessageJsonRow) => s.tags === undefined || (m.tag !== null && s.tags.has(m.tag));
  const deliverable = () => reads.map((r) => r.rows.filter((m) => wanted(r.source, m)));
  const hungry = reads.filter((r) => r.more);
  const missing = max - deliverable().flat().length;
  const spareBytes = maxBytes - bytesOf(deliverable().flat());
  if (missing > 0 && spareBytes > 0 && hungry.length > 0) {
    // Split what is still missing over the queues that had more (rows past their share, or past
    // their bytes), rather than reading a whole pull's worth from each: rows read and not handed
    // out are read again by the next pull.
    const more = Math.ceil(missing / hungry.length);
    const moreBytes = Math.ceil(spareBytes / hungry.length);
    const requests = hungry.map((r) => ({ view: r.source.view, afterId: r.rows[r.rows.length - 1]!.id, limit: rowsWithin(ctx, r.source, more, moreBytes), maxBytes: moreBytes }));
    const extra = await readSafe(ctx, requests);
    hungry.forEach((r, i) => {
      r.rows.push(...extra[i]!.messages);
      r.more = hadMore(extra[i]!, requests[i]!.limit);
    });
  }

  const candidates = deliverable();
  const taken = candidates.map((c) => c.length);
  // Full: a queue has more than this round read, or the bounds cut what it read. The consumer is
  // working through a backlog, and the next pull will want the rows after this answer.
  let full = reads.some((r) => r.more) || taken.reduce((a, b) => a + b, 0) >= max;
  if (taken.reduce((a, b) => a + b, 0) > max || bytesOf(candidates.flat()) > maxBytes) {
    full = true;
    taken.fill(0);
    let n = 0;
    let bytes = 0;
    for (let i = ctx.rotation.next() % reads.length, idle = 0; n < max && idle < reads.length; i = (i + 1) % reads.length) {
      const next = candidates[i]![taken[i]!];
      if (next === undefined) {
        idle++;
        continue;
      }
      if (n > 0 && bytes + next.json.length > maxBytes) break;
      taken[i]!++;
      n++;
      bytes += next.json.length;
      idle = 0;
    }
  }
  const takes = reads.map((r, i) => {
    const messages = candidates[i]!.slice(0, taken[i]);
    const all = taken[i] === candidates[i]!.length;
    // Every deliverable row taken: the position may run on over the filtered rows after it.
    const position = all ? r.rows[r.rows.length - 1]?.id : messages[messages.length - 1]?.id;
    return { view: r.source.view, messages, position };
  });
  return { takes, full };
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

function sameSources(a: readonly Source[], b: readonly Source[]): boolean {
  return a.length === b.length && a.every((s, i) => s.view === b[i]!.view && s.from === b[i]!.from && s.tags === b[i]!.tags);
}

/** A round of reads, the sources it read and the bounds it kept to. */
export interface Reading extends FairRead {
  sources: Source[];
  bounds: PullBounds;
}

/** A reading made for other sources or bounds can't answer this pull. */
export function fits(reading: Reading, sources: readonly Source[], bounds: PullBounds): boolean {
  return sameSources(reading.sources, sources) && reading.bounds.max === bounds.max && reading.bounds.maxBytes === bounds.maxBytes;
}

/**
 * Reads started before the ownership check answers, from what the consumer owned at its previous
 * pull. A failure here only means the reads are redone after the check (and fail there, if real).
 */
export function readAhead(ctx: BrokerContext, group: ConsumerGroup, owned: readonly OwnedQueue[] | undefined, positions: ReadonlyMap<number, number>, bounds: PullBounds): Promise<Reading | undefined> {
  if (!owned || owned.length === 0) return Promise.resolve(undefined);
  return sourcesOf(ctx, group, owned, positions)
    .then(async (sources) => ({ sources, bounds, ...(await readSources(ctx, sources, bounds)) }))
    .catch(() => undefined);
}

/** readFair, or nothing to read. */
export async function readSources(ctx: BrokerContext, sources: Source[], bounds: PullBounds): Promise<FairRead> {
  return sources.length > 0 ? readFair(ctx, sources, bounds) : { takes: [], full: false };
}

