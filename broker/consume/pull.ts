import type { StoredMessage } from '../../shared/messages/message-store';
import { touchConsumer } from '../../shared/metadata/consumers';
import { offsetsOfConsumer } from '../../shared/metadata/offsets';
import type { QueueView } from '../catalog';
import type { BrokerContext } from '../context';
import { messageJsonText } from '../messages-json';
import { expired, requireGroupForConsumers } from './membership';
import { readSafe } from './queue-reader';

export interface PullRequest {
  max?: number;
  waitMs?: number;
  /** Read after these ids instead of the committed offsets (pipelining); never behind the commit. */
  positions?: { queueId: number; offset: number }[];
}

interface Source {
  view: QueueView;
  from: number;
}

interface Batch {
  view: QueueView;
  messages: StoredMessage[];
}

let rotation = 0;

/**
 * Reads up to `max` messages fairly across the sources: about max/k from each queue first, then
 * more from the queues that had more, then takes round-robin (starting at a rotating queue) so no
 * queue starves another.
 */
async function readFair(ctx: BrokerContext, sources: Source[], max: number): Promise<Batch[]> {
  const share = Math.ceil(max / sources.length);
  const first = await Promise.all(sources.map((s) => readSafe(ctx, s.view, s.from, share)));
  const batches = sources.map((s, i) => ({ view: s.view, messages: first[i]!.messages, more: !first[i]!.blocked && first[i]!.messages.length === share }));
  let total = batches.reduce((n, b) => n + b.messages.length, 0);
  const hungry = batches.filter((b) => b.more);
  if (total < max && hungry.length > 0) {
    const want = max - total;
    const extra = await Promise.all(hungry.map((b) => readSafe(ctx, b.view, b.messages[b.messages.length - 1]!.id, want)));
    hungry.forEach((b, i) => b.messages.push(...extra[i]!.messages));
    total = batches.reduce((n, b) => n + b.messages.length, 0);
  }
  if (total <= max) return batches;
  const taken = batches.map(() => 0);
  rotation = (rotation + 1) % 1_000_000;
  for (let n = 0, i = rotation % batches.length; n < max; i = (i + 1) % batches.length) {
    if (taken[i]! < batches[i]!.messages.length) {
      taken[i]!++;
      n++;
    }
  }
  return batches.map((b, i) => ({ view: b.view, messages: b.messages.slice(0, taken[i]) }));
}

function waitForMessages(ctx: BrokerContext, queueIds: number[], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = ctx.signals.onAppend(queueIds, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A pull: messages from the queues this consumer owns, after the committed offsets (or the
 * positions given), long-polling up to waitMs. Also counts as a heartbeat. Returns the JSON text.
 */
export async function pull(ctx: BrokerContext, groupName: string, consumerId: number, req: PullRequest, signal: AbortSignal): Promise<string> {
  const group = await requireGroupForConsumers(ctx, groupName);
  if (!(await touchConsumer(ctx.db, group.id, consumerId, ctx.config.sessionTimeoutMs))) throw expired(groupName, consumerId);
  const max = Math.min(req.max ?? ctx.config.pullDefaultMax, ctx.config.pullMaxMessages);
  const deadline = Date.now() + Math.min(req.waitMs ?? 0, ctx.config.pullMaxWaitMs);
  const positions = new Map((req.positions ?? []).map((p) => [p.queueId, p.offset]));

  for (;;) {
    const owned = await offsetsOfConsumer(ctx.db, group.id, consumerId);
    const generation = Math.max(0, ...owned.map((o) => o.generation));
    const paused = (await ctx.catalog.group(groupName))?.paused ?? false;
    const sources: Source[] = [];
    if (!paused) {
      for (const o of owned) {
        const view = await ctx.catalog.queue(o.queueId);
        if (!view || !view.queue.readable) continue;
        sources.push({ view, from: Math.max(o.committedOffset, positions.get(o.queueId) ?? 0) });
      }
    }
    const batches = sources.length > 0 ? await readFair(ctx, sources, max) : [];
    const count = batches.reduce((n, b) => n + b.messages.length, 0);
    const remaining = deadline - Date.now();
    if (count > 0 || remaining <= 0 || signal.aborted) {
      const messages: string[] = [];
      const nextPositions: string[] = [];
      for (const b of batches) {
        for (const m of b.messages) messages.push(messageJsonText(b.view.topic.name, b.view.queue.id, m));
        const last = b.messages[b.messages.length - 1];
        if (last) nextPositions.push(`{"queueId":${b.view.queue.id},"offset":${last.id}}`);
      }
      return `{"generation":${generation},"messages":[${messages.join(',')}],"positions":[${nextPositions.join(',')}]}`;
    }
    const wakeAfter = Math.min(remaining, ctx.config.pullPollIntervalMs);
    await waitForMessages(ctx, owned.map((o) => o.queueId), wakeAfter, signal);
  }
}
