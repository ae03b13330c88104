import { touchConsumer } from '../../shared/metadata/consumers';
import { consumerStateForPull } from '../../shared/metadata/offsets';
import type { BrokerContext } from '../context';
import { fits, readAhead, readSources, sourcesOf, type PullBounds, type Reading } from './fair-read';
import { expired, requireGroupForConsumers } from './membership';
import { consumerKey, heartbeatRefreshMs } from './waiting-pulls';

export interface PullRequest {
  max?: number;
  /** Most bytes of message JSON in the answer (capped by pullMaxBytes); one message is always handed out. */
  maxBytes?: number;
  waitMs?: number;
  /** Read after these ids instead of the committed offsets (pipelining); never behind the commit. */
  positions?: { queueId: number; offset: number }[];
}

const COMMA = Buffer.from(',');

/**
 * A pull: messages from the queues this consumer owns, after the committed offsets (or the
 * positions given), long-polling up to waitMs. Also counts as a heartbeat. Returns the JSON bytes;
 * its `positions` are what the consumer commits once it has processed the messages.
 *
 * Each round checks liveness and ownership in the metadata DB (pulls are fenced like commits) and,
 * at the same time, reads the queues the consumer owned at its previous pull (or takes the read a
 * full previous answer started, see prefetch.ts); the reads are used only if the check names the
 * same queues and starting ids, and are redone otherwise.
 */
export async function pull(ctx: BrokerContext, groupName: string, consumerId: number, req: PullRequest, signal: AbortSignal): Promise<Buffer[]> {
  const group = await requireGroupForConsumers(ctx, groupName);
  const { sessionTimeoutMs } = ctx.config;
  const refreshAfterMs = heartbeatRefreshMs(ctx.config);
  const max = Math.min(req.max ?? ctx.config.pullDefaultMax, ctx.config.pullMaxMessages);
  const bounds: PullBounds = { max, maxBytes: Math.min(req.maxBytes ?? ctx.config.pullMaxBytes, ctx.config.pullMaxBytes) };
  const deadline = Date.now() + Math.min(req.waitMs ?? 0, ctx.config.pullMaxWaitMs);
  // Starts from the client's positions, then follows this pull's own progress over filtered rows.
  const positions = new Map((req.positions ?? []).map((p) => [p.queueId, p.offset]));
  const advanced = new Set<number>();

  const key = consumerKey(group.id, consumerId);
  // The group generation of the last round that found the consumer alive.
  let generation: number | undefined;
  for (;;) {
    const heardSince = ctx.signals.mark();
    const prefetched = ctx.prefetches.take(key);
    const ahead = prefetched ?? readAhead(ctx, group, ctx.ownership.get(group.id, consumerId), positions, bounds);
    const state = await consumerStateForPull(ctx.db, { groupId: group.id, consumerId, sessionTimeoutMs, refreshAfterMs });
    if (!state?.alive) {
      ctx.ownership.forget(group.id, consumerId);
      // Gone after an earlier round found it alive (and renewed it): it left while this pull
      // waited. An empty answer, not 404, so that a consumer shutting down does not register again.
      if (state === undefined && generation !== undefined) return [Buffer.from(`{"generation":${generation},"messages":[],"positions":[]}`)];
      throw expired(groupName, consumerId);
    }
    if (state.stale) {
      if (!(await touchConsumer(ctx.db, group.id, consumerId, sessionTimeoutMs))) throw expired(groupName, consumerId);
    }
    const owned = state.owned;
    ctx.ownership.set(group.id, consumerId, owned.map((o) => ({ queueId: o.queueId, committedOffset: o.committedOffset })));
    generation = state.generation;
    const sources = await sourcesOf(ctx, group, owned, positions);
    const early = await ahead;
    const usable = early !== undefined && fits(early, sources, bounds);
    if (usable && prefetched) ctx.metrics.prefetchUsed.inc();
    const { takes, full } = usable ? early : await readSources(ctx, sources, bounds);
    let count = 0;
    for (const t of takes) {
      count += t.messages.length;
      if (t.position !== undefined) {
        positions.set(t.view.queue.id, t.position);
        advanced.add(t.view.queue.id);
      }
    }
    const remaining = deadline - Date.now();
    const skippedOnly = count === 0 && takes.some((t) => t.position !== undefined);
    if (count > 0 || remaining <= 0 || signal.aborted) {
      const parts: Buffer[] = [Buffer.from(`{"generation":${generation},"messages":[`)];
      for (const t of takes) {
        for (const m of t.messages) {
          if (parts.length > 1) parts.push(COMMA);
          parts.push(m.json);
        }
        if (t.messages.length > 0) ctx.metrics.pulled.inc({ topic: t.view.topic.name }, t.messages.length);
      }
      if (full) {
        // A full answer: the consumer is working through a backlog and will ask again at once,
        // from where this answer ends. Start that read now.
        const next = sources.map((s) => ({ ...s, from: advanced.has(s.view.queue.id) ? positions.get(s.view.queue.id)! : s.from }));
        ctx.prefetches.start(key, async (): Promise<Reading> => ({ sources: next, bounds, ...(await readSources(ctx, next, bounds)) }));
      }
      // Every owned queue this pull read on or the request named, so that the answer alone says
      // where the next pull starts and its positions cover every answer before it.
      const nextPositions = owned
        .filter((o) => positions.has(o.queueId))
        .map((o) => `{"queueId":${o.queueId},"offset":${Math.max(o.committedOffset, positions.get(o.queueId)!)}}`);
      parts.push(Buffer.from(`],"positions":[${nextPositions.join(',')}]}`));
      return parts;
    }
    // Only filtered rows so far: read on at once from the new positions.
    if (skippedOnly) continue;
    const readUpTo = new Map(sources.map((s) => [s.view.queue.id, Math.max(s.from, positions.get(s.view.queue.id) ?? 0)]));
    const pausedGroup = (await ctx.catalog.group(group.name))?.paused ? group.name : undefined;
    await ctx.waitingPulls.wait({ key, consumerId, readUpTo, heardSince, generation, pausedGroup, ms: remaining, signal });
  }
}
