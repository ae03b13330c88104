import type { Position, PullAnswer, ReceivedMessage } from './messages';

/** One queue's messages from one pull answer, to be handled in order. */
export interface Chunk {
  queueId: number;
  /** The queue's epoch when the answer was accepted: work of an older epoch is void. */
  epoch: number;
  generation: number;
  messages: ReceivedMessage[];
  /** Where the answer says the next pull starts on this queue (covers messages a tag filter skipped). */
  position: number;
}

/** Offsets to commit with one generation. */
export interface CommitBatch {
  generation: number;
  offsets: Position[];
}

interface QueueState {
  /** Order in which queues became known; a heartbeat only revokes queues known before it was sent. */
  since: number;
  /**
   * The generation of the pull that started reading this queue from its committed offset. Every
   * later position follows from that read, so commits and fails name it: if the queue changed
   * hands or was reset after it, the broker fences them (a later pull's generation would not).
   */
  generation: number;
  /** Where the next pull starts; undefined: at the committed offset. */
  position: number | undefined;
  /** The last id processed, and the part of it not yet committed. */
  processed: number | undefined;
  pending: number | undefined;
}

/** A view of the epochs when a request was sent, to tell which parts of its answer are stale. */
export type EpochSnapshot = ReadonlyMap<number, number>;

/**
 * What a consumer knows per queue: where its next pull starts, what it has processed and not yet
 * committed, and an epoch that changes whenever the queue is dropped (lost to a rebalance, or all
 * queues after an expiry). Anything read or processed under an older epoch is ignored, so a
 * position is never carried across a loss: a queue that comes back starts at its committed offset.
 */
export class QueueTracker {
  private readonly queues = new Map<number, QueueState>();
  /** Epochs of queues dropped while unknown are kept here so snapshots compare right. */
  private readonly epochs = new Map<number, number>();
  private seq = 0;

  /** The `positions` of the next pull. */
  positions(): Position[] {
    const out: Position[] = [];
    for (const [queueId, q] of this.queues) if (q.position !== undefined) out.push({ queueId, offset: q.position });
    return out;
  }

  snapshot(): EpochSnapshot {
    return new Map(this.epochs);
  }

  /** A mark to pass to `knownBefore`: queues learnt after it are not judged by an answer to a request sent at it. */
  mark(): number {
    return this.seq;
  }

  /** Queues known since before `mark` (a heartbeat sent at `mark` can tell whether they are still owned). */
  knownBefore(mark: number): number[] {
    return [...this.queues].filter(([, q]) => q.since < mark).map(([id]) => id);
  }

  known(): number[] {
    return [...this.queues.keys()];
  }

  epoch(queueId: number): number {
    return this.epochs.get(queueId) ?? 0;
  }

  /**
   * Takes a pull answer for a request sent at `snapshot` naming `named` queues. Returns the chunks
   * to handle (queues dropped since the request are left out) and the named queues the answer no
   * longer covers (the consumer does not own them any more).
   */
  accept(answer: PullAnswer, snapshot: EpochSnapshot, named: readonly number[]): { chunks: Chunk[]; lost: number[] } {
    const fresh = (queueId: number) => this.epoch(queueId) === (snapshot.get(queueId) ?? 0);
    const byQueue = new Map<number, ReceivedMessage[]>();
    for (const m of answer.messages) {
      const list = byQueue.get(m.queueId);
      if (list) list.push(m);
      else byQueue.set(m.queueId, [m]);
    }
    const chunks: Chunk[] = [];
    const covered = new Set<number>();
    for (const p of answer.positions) {
      covered.add(p.queueId);
      if (!fresh(p.queueId)) continue;
      const q = this.state(p.queueId, answer.generation);
      q.position = Math.max(q.position ?? 0, p.offset);
      chunks.push({ queueId: p.queueId, epoch: this.epoch(p.queueId), generation: q.generation, messages: byQueue.get(p.queueId) ?? [], position: p.offset });
    }
    const lost = named.filter((id) => !covered.has(id) && fresh(id) && this.queues.has(id));
    return { chunks, lost };
  }

  /** Records that everything up to `offset` of a queue is processed, if `epoch` is still current. */
  processed(queueId: number, epoch: number, offset: number): void {
    const q = this.queues.get(queueId);
    if (!q || this.epoch(queueId) !== epoch || (q.processed ?? -1) >= offset) return;
    q.processed = offset;
    q.pending = offset;
  }

  /**
   * Commits every processed offset again at the next round, committed or not. After the group
   * generation moved this is how a consumer learns of a queue reset or handed over meanwhile
   * that it has nothing new to commit on: the broker fences the commit (offsets never move back,
   * so for the other queues it changes nothing).
   */
  recommitAll(): void {
    for (const q of this.queues.values()) if (q.processed !== undefined) q.pending = q.processed;
  }

  isCurrent(queueId: number, epoch: number): boolean {
    return this.queues.has(queueId) && this.epoch(queueId) === epoch;
  }

  /** Forgets a queue: its position, its uncommitted progress, and (by the new epoch) its work in flight. */
  drop(queueId: number): void {
    this.epochs.set(queueId, this.epoch(queueId) + 1);
    this.queues.delete(queueId);
  }

  dropAll(): number[] {
    const dropped = this.known();
    for (const id of dropped) this.drop(id);
    return dropped;
  }

  /** Takes what is processed and uncommitted, grouped by generation (a commit carries one). */
  takeCommits(): CommitBatch[] {
    const byGeneration = new Map<number, Position[]>();
    for (const [queueId, q] of this.queues) {
      if (q.pending === undefined) continue;
      const list = byGeneration.get(q.generation) ?? [];
      list.push({ queueId, offset: q.pending });
      byGeneration.set(q.generation, list);
      q.pending = undefined;
    }
    return [...byGeneration].map(([generation, offsets]) => ({ generation, offsets }));
  }

  /** Puts back offsets a commit did not apply, unless the queue was dropped or moved on since. */
  restore(batch: CommitBatch, epochs: EpochSnapshot): void {
    for (const o of batch.offsets) {
      const q = this.queues.get(o.queueId);
      if (!q || this.epoch(o.queueId) !== (epochs.get(o.queueId) ?? 0)) continue;
      q.pending = Math.max(q.pending ?? -1, o.offset);
    }
  }

  private state(queueId: number, generation: number): QueueState {
    let q = this.queues.get(queueId);
    if (!q) {
      q = { since: this.seq++, generation, position: undefined, processed: undefined, pending: undefined };
      this.queues.set(queueId, q);
    }
    return q;
  }
}
