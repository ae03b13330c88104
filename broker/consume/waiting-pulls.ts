import type { MetadataDb } from '../../shared/db/metadata-db';
import type { Logger } from '../../shared/logger';
import { maxIds } from '../../shared/messages/sql/max-ids';
import type { NodePools } from '../../shared/messages/node-pools';
import { consumerStates, touchConsumers } from '../../shared/metadata/consumers';
import type { DbNode } from '../../shared/metadata/rows';
import type { Config } from '../../shared/config';
import type { Catalog } from '../catalog';
import type { QueueSignals } from '../signals';

/** One long-polling pull that found nothing to hand out. */
export interface PullWait {
  /** consumerKey(group, consumer) */
  key: string;
  consumerId: number;
  /** queue id → the id up to which the pull has read that queue: a row after it wakes the pull. */
  readUpTo: ReadonlyMap<number, number>;
  /** The group generation the pull's ownership check saw: a newer one (rebalance, offset reset) wakes the pull. */
  generation: number;
  /** QueueSignals.mark() from before the pull's reads: rows announced since then wake it at once. */
  heardSince: number;
  /** Set when the pull found its group paused (it read nothing): the group's name, whose resume wakes the pull. */
  pausedGroup?: string;
  ms: number;
  signal: AbortSignal;
}

interface Waiter extends PullWait {
  wake(): void;
  touchedAt: number;
}

/**
 * A pull (and a pull waiting) counts as a heartbeat, but the consumer row is rewritten only when
 * it is about this old: at most about once a second.
 */
export const heartbeatRefreshMs = (config: Pick<Config, 'heartbeatIntervalMs'>): number => Math.min(1000, config.heartbeatIntervalMs);

export interface WaitingPullsOptions {
  db: MetadataDb;
  nodes: NodePools;
  catalog: Catalog;
  signals: QueueSignals;
  logger: Logger;
  config: Pick<Config, 'pullPollIntervalMs' | 'sessionTimeoutMs' | 'heartbeatIntervalMs'>;
}

/**
 * Where long-polling pulls wait, so that waiting costs the database the same whether ten or ten
 * thousand pulls wait. Instead of every pull re-reading its queues each `pullPollIntervalMs`, one
 * watch per broker looks each interval, while anyone waits:
 *  - one MAX(id) statement per db node over every queue a pull waits on, waking the pulls whose
 *    queues grew past what they read (rows produced through other brokers);
 *  - one metadata statement over the waiting consumers, waking those whose group has a newer
 *    generation (a rebalance or an offset reset) or that are gone or expired;
 *  - about once a second, one statement renewing the waiting consumers' heartbeats, since a
 *    waiting pull counts as a heartbeat.
 * Rows produced through this broker wake their pulls at once (QueueSignals), and a consumer
 * leaving through this broker ends its own waiting pulls at once (wake).
 */
export class WaitingPulls {
  private readonly waiters = new Set<Waiter>();
  /** Set while a watch is due or running, so one runs at a time. */
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: WaitingPullsOptions) {}

  /** Pulls waiting now (a gauge). */
  get size(): number {
    return this.waiters.size;
  }

  /** Wakes every pull of the consumer now waiting here. */
  wake(key: string): void {
    for (const w of [...this.waiters]) if (w.key === key) w.wake();
  }

  /** Resolves when the pull should look again: woken (see above), after `ms`, or on abort. */
  wait(w: PullWait): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { ...w, touchedAt: Date.now(), wake: () => done() };
      const timer = setTimeout(() => done(), w.ms);
      const unsubscribe = this.o.signals.onAppend([...w.readUpTo.keys()], () => done());
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        w.signal.removeEventListener('abort', done);
        this.waiters.delete(waiter);
        resolve();
      };
      if (w.signal.aborted || this.o.signals.appendedSince(w.readUpTo.keys(), w.heardSince)) return done();
      w.signal.addEventListener('abort', done, { once: true });
      this.waiters.add(waiter);
      this.schedule();
    });
  }

  /** No more watches (the broker is stopping; its pulls are answered through their abort signals). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.timer || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      this.watch()
        .catch((err: unknown) => this.o.logger.warn('watching for waiting pulls failed; they wait on', { error: String(err) }))
        .finally(() => {
          this.timer = undefined;
          this.schedule();
        });
    }, this.o.config.pullPollIntervalMs);
  }

  private async watch(): Promise<void> {
    const waiters = [...this.waiters];
    await Promise.all([this.wakeOnNewRows(waiters), this.wakeOnAssignmentChanges(waiters), this.wakeOnResume(waiters), this.renewHeartbeats(waiters)]);
  }

  /** From the catalog's copy of the groups (refreshed every metadataRefreshMs): no statement. */
  private async wakeOnResume(waiters: readonly Waiter[]): Promise<void> {
    for (const w of waiters) {
      if (w.pausedGroup !== undefined && !((await this.o.catalog.group(w.pausedGroup))?.paused ?? false)) w.wake();
    }
  }

  private async wakeOnNewRows(waiters: readonly Waiter[]): Promise<void> {
    const queueIds = new Set(waiters.flatMap((w) => [...w.readUpTo.keys()]));
    const byNode = new Map<number, { node: DbNode; queues: { queueId: number; table: string }[] }>();
    for (const id of queueIds) {
      const view = await this.o.catalog.queue(id);
      if (!view?.queue.tableName) continue;
      const onNode = byNode.get(view.node.id) ?? { node: view.node, queues: [] };
      onNode.queues.push({ queueId: id, table: view.queue.tableName });
      byNode.set(view.node.id, onNode);
    }
    const highWater = new Map<number, number>();
    await Promise.all(
      [...byNode.values()].map(async ({ node, queues }) => {
        const conn = await this.o.nodes.get(node);
        const maxes = await maxIds(conn.pool, queues.map((q) => q.table));
        queues.forEach((q, i) => {
          highWater.set(q.queueId, maxes[i]!);
          this.o.signals.seen(q.queueId, maxes[i]!);
        });
      }),
    );
    for (const w of waiters) {
      if ([...w.readUpTo].some(([queueId, upTo]) => (highWater.get(queueId) ?? 0) > upTo)) w.wake();
    }
  }

  private async wakeOnAssignmentChanges(waiters: readonly Waiter[]): Promise<void> {
    const states = await consumerStates(this.o.db, [...new Set(waiters.map((w) => w.consumerId))], this.o.config.sessionTimeoutMs);
    for (const w of waiters) {
      const state = states.get(w.consumerId);
      if (!state?.alive || state.generation > w.generation) w.wake();
    }
  }

  private async renewHeartbeats(waiters: readonly Waiter[]): Promise<void> {
    const now = Date.now();
    // Half the refresh age: the heartbeat may already have been that old when the pull began waiting.
    const due = waiters.filter((w) => now - w.touchedAt >= heartbeatRefreshMs(this.o.config) / 2);
    if (due.length === 0) return;
    await touchConsumers(this.o.db, [...new Set(due.map((w) => w.consumerId))], this.o.config.sessionTimeoutMs);
    for (const w of due) w.touchedAt = now;
  }
}

export const consumerKey = (groupId: number, consumerId: number): string => `${groupId}:${consumerId}`;
