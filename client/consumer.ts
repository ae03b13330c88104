import { ConsumerExpiredError, HandlerError, RebalancedError, TablemqError, asError, fencedQueues, type FencedQueue } from './errors';
import { Limiter } from './limiter';
import type { Assignment, HeartbeatAnswer, PullAnswer, ReceivedMessage, RegisterAnswer } from './messages';
import { QueueTracker, type Chunk } from './queue-tracker';
import { Transport, type TransportOptions } from './transport';

export interface RebalanceEvent {
  generation: number;
  /** The queues this consumer owns now. */
  queues: number[];
  /** Queues it lost: their positions and unstarted work were dropped. */
  revoked: number[];
}

export interface ConsumerOptions<Body = unknown> extends TransportOptions {
  group: string;
  /** Unique in the group; registering it again while alive keeps its consumer id. */
  name: string;
  /** Called once per message, in id order per queue. A throw reports the message with `fail`. */
  handler?: (message: ReceivedMessage<Body>) => unknown;
  /** Instead of `handler`: called with one queue's messages of a pull, in order. A throw fails them all. */
  batchHandler?: (messages: ReceivedMessage<Body>[]) => unknown;
  /** Queues handled in parallel. Default 4. */
  concurrency?: number;
  /** Messages per pull. Default 100. */
  maxMessages?: number;
  /** Bytes of message bodies per pull (the broker caps it; at least one message comes). Default: the broker's. */
  maxBytes?: number;
  /** Long-poll wait of a pull. Default 20 s (the broker caps it at pullMaxWaitMs). */
  waitMs?: number;
  /** How often processed offsets are committed. Default 200 ms. */
  commitIntervalMs?: number;
  /** How long `stop()` lets running handlers finish before it commits and leaves. Default 10 s. */
  stopTimeoutMs?: number;
  /** Aborting it stops the consumer, as `stop()` does. */
  signal?: AbortSignal;
  /** Errors the consumer worked around (a failed call, a handler that threw); for logs and metrics. */
  onError?: (error: Error) => void;
  /** The set of queues this consumer owns changed. */
  onRebalance?: (event: RebalanceEvent) => void;
}

interface Member {
  consumerId: number;
  heartbeatIntervalMs: number;
}

type State = 'new' | 'running' | 'stopping' | 'stopped';

/** Pause after a failed pull before the next, so a persistent error does not spin. */
const PULL_ERROR_PAUSE_MS = 500;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/**
 * A member of a consumer group that runs the protocol: register, heartbeat at the interval the
 * broker gives, long-poll pulls kept one answer ahead of processing, one queue's messages in
 * order and queues in parallel, `fail` for what a handler throws on (before its offset moves),
 * batched commits, and a clean leave on stop. A rebalance drops the lost queues' positions and
 * unstarted work; an expiry registers again. Delivery is at least once: after a crash or a lost
 * queue, messages processed but not yet committed are delivered again.
 */
export class Consumer<Body = unknown> {
  private readonly transport: Transport;
  private readonly base: string;
  private readonly tracker = new QueueTracker();
  private readonly limiter: Limiter;
  private readonly lanes = new Map<number, Promise<void>>();
  private readonly stopController = new AbortController();
  private state: State = 'new';
  private member: Member | undefined;
  private owned = new Set<number>();
  private generation = 0;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private recovering: Promise<void> | undefined;
  private committing: Promise<void> | undefined;
  private heartbeating: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  /** Heartbeats go on while stopping (handlers may take a while) and end just before the leave. */
  private heartbeatsOff = false;

  constructor(private readonly options: ConsumerOptions<Body>) {
    if (!options.handler === !options.batchHandler) throw new TablemqError('INVALID_OPTIONS', 'give exactly one of handler and batchHandler');
    this.transport = new Transport(options);
    this.base = `/api/v1/groups/${encodeURIComponent(options.group)}/consumers`;
    this.limiter = new Limiter(options.concurrency ?? 4);
  }

  /** The consumer id the broker gave, once registered. */
  get consumerId(): number | undefined {
    return this.member?.consumerId;
  }

  /** Registers and starts pulling; rejects if the first registration fails (e.g. unknown group). */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new TablemqError('ALREADY_STARTED', 'a consumer starts once'));
    this.state = 'running';
    this.startPromise = (async () => {
      try {
        await this.register();
      } catch (err) {
        this.state = 'stopped';
        throw err;
      }
      this.commitTimer = setInterval(() => void this.flushCommits(), this.options.commitIntervalMs ?? 200);
      this.loop = this.pullLoop();
      const signal = this.options.signal;
      if (signal?.aborted) void this.stop();
      else signal?.addEventListener('abort', () => void this.stop(), { once: true });
    })();
    return this.startPromise;
  }

  /**
   * Stops pulling (an open long-poll is aborted), lets running handlers finish up to
   * stopTimeoutMs (messages not started yet are left for the next owner), commits, and leaves.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  private async shutdown(): Promise<void> {
    await this.startPromise?.catch(() => undefined);
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.stopController.abort();
    await this.loop;
    await this.recovering;
    const timeout = this.options.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all([...this.lanes.values()]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout))),
    ]);
    clearTimeout(timer);
    if (!finished) this.emitError(new TablemqError('STOP_TIMEOUT', `handlers still running after ${timeout} ms; committing what finished`));
    clearInterval(this.commitTimer);
    await this.committing;
    await this.flushCommits();
    this.heartbeatsOff = true;
    clearTimeout(this.heartbeatTimer);
    await this.heartbeating;
    const member = this.member;
    if (member) {
      try {
        await this.transport.call('DELETE', `${this.base}/${member.consumerId}`, undefined);
      } catch (err) {
        // Expired already: its queues have moved on, which is what leaving was for.
        if (!(err instanceof ConsumerExpiredError)) this.emitError(err);
      }
    }
    this.state = 'stopped';
  }

  private async register(): Promise<void> {
    const answer = await this.transport.call<RegisterAnswer>('POST', this.base, JSON.stringify({ name: this.options.name }));
    this.member = { consumerId: answer.consumerId, heartbeatIntervalMs: answer.heartbeatIntervalMs };
    this.reconcile(answer.generation, answer.assignments, this.tracker.mark());
    this.scheduleHeartbeat();
  }

  /**
   * After a 404 (the broker expired this consumer): forget every queue and register again, once,
   * however many calls saw the 404. Never while stopping: a leaving consumer must not come back.
   */
  private recover(member: Member): Promise<void> {
    if (this.state !== 'running' || this.member !== member) return this.recovering ?? Promise.resolve();
    this.recovering ??= (async () => {
      const revoked = this.tracker.dropAll();
      this.owned.clear();
      this.emitRebalance(revoked);
      for (let attempt = 1; this.state === 'running'; attempt++) {
        try {
          await this.register();
          return;
        } catch (err) {
          this.emitError(err);
          await sleep(Math.min(5_000, 100 * 2 ** attempt), this.stopController.signal);
        }
      }
    })().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    if (this.heartbeatsOff) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeating = this.heartbeat().finally(() => {
        this.heartbeating = undefined;
        this.scheduleHeartbeat();
      });
    }, this.member!.heartbeatIntervalMs);
  }

  private async heartbeat(): Promise<void> {
    const member = this.member!;
    const mark = this.tracker.mark();
    try {
      const answer = await this.transport.call<HeartbeatAnswer>('POST', `${this.base}/${member.consumerId}/heartbeat`, undefined);
      if (this.member === member) this.reconcile(answer.generation, answer.assignments, mark);
    } catch (err) {
      if (err instanceof ConsumerExpiredError) void this.recover(member);
      else this.emitError(err);
    }
  }

  /** Takes the assignments the broker reported for a request sent at `mark`. */
  private reconcile(generation: number, assignments: Assignment[], mark: number): void {
    this.seeGeneration(generation);
    const now = new Set(assignments.map((a) => a.queueId));
    const revoked = new Set([...this.owned].filter((q) => !now.has(q)));
    for (const q of this.tracker.knownBefore(mark)) {
      if (now.has(q)) continue;
      this.tracker.drop(q);
      revoked.add(q);
    }
    const added = [...now].some((q) => !this.owned.has(q));
    this.owned = now;
    if (added || revoked.size > 0) this.emitRebalance([...revoked]);
  }

  /**
   * A newer group generation: some queue of the group changed hands or was reset. Commit every
   * queue's processed offset again, so the broker fences those of ours it concerns.
   */
  private seeGeneration(generation: number): void {
    if (generation > this.generation && this.generation > 0) this.tracker.recommitAll();
    this.generation = Math.max(this.generation, generation);
  }

  /**
   * Drops what this consumer knows of queues the broker fenced or a pull no longer covers: they are read again from the committed
   * offset if still owned (REASSIGNED: moved away and back, or reset), else they are revoked.
   */
  private fence(fenced: FencedQueue[]): void {
    const revoked: number[] = [];
    for (const f of fenced) {
      this.tracker.drop(f.queueId);
      if (f.reason === 'REASSIGNED') continue;
      if (this.owned.delete(f.queueId)) revoked.push(f.queueId);
    }
    if (revoked.length > 0) this.emitRebalance(revoked);
  }

  private async pullLoop(): Promise<void> {
    const max = this.options.maxMessages ?? 100;
    const waitMs = this.options.waitMs ?? 20_000;
    const signal = this.stopController.signal;
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    let previous: Promise<void> = Promise.resolve();
    while (this.state === 'running') {
      if (this.recovering) {
        await this.recovering;
        continue;
      }
      const member = this.member!;
      const named = this.tracker.positions();
      const snapshot = this.tracker.snapshot();
      let answer: PullAnswer;
      try {
        const body = JSON.stringify({ max, waitMs, ...(this.options.maxBytes === undefined ? {} : { maxBytes: this.options.maxBytes }), positions: named });
        answer = await this.transport.call<PullAnswer>('POST', `${this.base}/${member.consumerId}/pull`, body, { signal, extraTimeoutMs: waitMs });
      } catch (err) {
        if (this.state !== 'running') break;
        if (err instanceof ConsumerExpiredError) await this.recover(member);
        else {
          this.emitError(err);
          await sleep(PULL_ERROR_PAUSE_MS, signal);
        }
        continue;
      }
      if (this.member !== member || this.state !== 'running') continue;
      if (!Array.isArray(answer?.messages) || !Array.isArray(answer.positions)) {
        this.emitError(new TablemqError('BAD_ANSWER', 'a pull answer without messages and positions'));
        await sleep(PULL_ERROR_PAUSE_MS, signal);
        continue;
      }
      const { chunks, lost } = this.tracker.accept(answer, snapshot, named.map((p) => p.queueId));
      this.fence(lost.map((queueId) => ({ queueId })));
      this.seeGeneration(answer.generation);
      const fresh = chunks.filter((c) => !this.owned.has(c.queueId)).map((c) => c.queueId);
      if (fresh.length > 0) {
        for (const q of fresh) this.owned.add(q);
        this.emitRebalance([]);
      }
      const processing = this.dispatch(chunks);
      // One answer ahead: the next pull goes out while this one is handled, not before the
      // previous one is done.
      await Promise.race([previous, stopped]);
      previous = processing;
    }
  }

  /** Queues each chunk behind the earlier work of its queue; resolves when all are handled. */
  private dispatch(chunks: Chunk[]): Promise<void> {
    const tails = chunks.map((chunk) => {
      const tail = (this.lanes.get(chunk.queueId) ?? Promise.resolve()).then(() => this.handleChunk(chunk));
      this.lanes.set(chunk.queueId, tail);
      void tail.then(() => {
        if (this.lanes.get(chunk.queueId) === tail) this.lanes.delete(chunk.queueId);
      });
      return tail;
    });
    return Promise.all(tails).then(() => undefined);
  }

  /** Whether work of this chunk may still start: running, and its queue not dropped since. */
  private live(chunk: Chunk): boolean {
    return this.state === 'running' && this.tracker.isCurrent(chunk.queueId, chunk.epoch);
  }

  /** Handles one queue's messages in order. Never rejects: everything ends in a commit, a fail or a drop. */
  private async handleChunk(chunk: Chunk): Promise<void> {
    const done = (offset: number) => this.tracker.processed(chunk.queueId, chunk.epoch, offset);
    if (chunk.messages.length === 0) return done(chunk.position);
    await this.limiter.acquire();
    try {
      const messages = chunk.messages as ReceivedMessage<Body>[];
      if (this.options.batchHandler) {
        if (!this.live(chunk)) return;
        try {
          await this.options.batchHandler(messages);
        } catch (err) {
          if (!(await this.reportFailure(chunk, messages, err))) return;
        }
      } else {
        for (const message of messages) {
          if (!this.live(chunk)) return;
          try {
            await this.options.handler!(message);
          } catch (err) {
            if (!(await this.reportFailure(chunk, [message], err))) return;
          }
          done(message.id);
        }
      }
      done(chunk.position);
    } finally {
      this.limiter.release();
    }
  }

  /**
   * Reports messages a handler failed on, so the broker retries them through the retry topic.
   * Returns whether the queue may move on past them; if not, the queue was dropped and its
   * messages come again from the committed offset.
   */
  private async reportFailure(chunk: Chunk, messages: ReceivedMessage<Body>[], cause: unknown): Promise<boolean> {
    this.emitError(new HandlerError(messages, cause));
    const member = this.member!;
    const body = JSON.stringify({
      messages: messages.map((m) => ({ queueId: m.queueId, id: m.id })),
      reason: asError(cause).message.slice(0, 1000) || 'handler failed',
      generation: chunk.generation,
    });
    try {
      await this.transport.call('POST', `${this.base}/${member.consumerId}/fail`, body);
      return this.tracker.isCurrent(chunk.queueId, chunk.epoch);
    } catch (err) {
      this.onCallError(err, member, [chunk.queueId]);
      return false;
    }
  }

  /** A fenced, expired or failed call about `queueIds`: drop what can no longer be trusted. */
  private onCallError(err: unknown, member: Member, queueIds: number[]): void {
    if (err instanceof RebalancedError) {
      this.fence(err.fenced.length > 0 ? err.fenced : queueIds.map((queueId) => ({ queueId })));
    } else if (err instanceof ConsumerExpiredError) {
      void this.recover(member);
    } else {
      // Not known to be lost, but its progress can't be trusted: read it again from the commit.
      this.emitError(err);
      for (const q of queueIds) this.tracker.drop(q);
    }
  }

  /** Commits what is processed; one commit round at a time. Never rejects. */
  private flushCommits(): Promise<void> {
    this.committing ??= this.commitRound().finally(() => (this.committing = undefined));
    return this.committing;
  }

  private async commitRound(): Promise<void> {
    const member = this.member;
    if (!member) return;
    const snapshot = this.tracker.snapshot();
    for (const batch of this.tracker.takeCommits()) {
      try {
        const answer = await this.transport.call<unknown>('POST', `${this.base}/${member.consumerId}/commit`, JSON.stringify(batch));
        this.fence(fencedQueues(answer));
      } catch (err) {
        if (err instanceof RebalancedError) {
          // A 409 applied nothing (a broker before partial commits also refused the owned part): send the rest again.
          const fenced = err.fenced.length > 0 ? err.fenced : batch.offsets.map((o) => ({ queueId: o.queueId }));
          this.fence(fenced);
          const ids = new Set(fenced.map((f) => f.queueId));
          this.tracker.restore({ generation: batch.generation, offsets: batch.offsets.filter((o) => !ids.has(o.queueId)) }, snapshot);
        } else if (err instanceof ConsumerExpiredError) {
          void this.recover(member);
        } else {
          this.emitError(err);
          this.tracker.restore(batch, snapshot);
        }
      }
    }
  }

  private emitRebalance(revoked: number[]): void {
    const event: RebalanceEvent = { generation: this.generation, queues: [...this.owned].sort((a, b) => a - b), revoked: [...revoked].sort((a, b) => a - b) };
    try {
      this.options.onRebalance?.(event);
    } catch (err) {
      this.emitError(err);
    }
  }

  private emitError(err: unknown): void {
    try {
      this.options.onError?.(asError(err));
    } catch {
      // A failing error hook must not stop the consumer.
    }
  }
}
