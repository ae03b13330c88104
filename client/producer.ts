import { ByteBudget } from './byte-budget';
import { BrokerResponseError, BufferFullError, MessageTooLargeError, ProducerClosedError, asError } from './errors';
import type { OutgoingMessage, SendResult } from './messages';
import { Transport, type TransportOptions } from './transport';

export interface ProducerOptions extends TransportOptions {
  /** How long `enqueue` lets a batch gather when nothing is in flight. Default 2 ms. */
  lingerMs?: number;
  /** Most messages in one batch (at most the broker's maxMessagesPerRequest, 1000 by default). Default 500. */
  maxBatchMessages?: number;
  /** Most bytes of message JSON in one batch. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Most bytes of message JSON held, buffered or in flight, over all topics. Default 32 MiB. */
  maxBufferedBytes?: number;
  /** When the buffer is full, `enqueue` waits for room (default) or rejects with BufferFullError. */
  onBufferFull?: 'wait' | 'reject';
  /**
   * Batches of one topic in flight at once. Default 1, which keeps `enqueue` order per topic (and
   * so per key) even across retries; more raises throughput but a retried batch may then land
   * after a later one.
   */
  maxInFlightPerTopic?: number;
}

interface Entry {
  json: string;
  bytes: number;
  resolve: (result: SendResult) => void;
  reject: (err: Error) => void;
}

interface TopicBuffer {
  entries: Entry[];
  bytes: number;
  inFlight: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Produces messages to tablemq. `send` is one request; `enqueue` batches single messages per
 * topic (linger, rows, bytes) in a bounded buffer. Both retry on another broker after a network
 * error or a 503 (see Transport). A retry after a lost answer can store a message twice: the
 * broker had committed it, but the answer never arrived, so the client cannot know.
 */
export class Producer {
  private readonly transport: Transport;
  private readonly lingerMs: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlight: number;
  private readonly rejectWhenFull: boolean;
  private readonly budget: ByteBudget;
  private readonly topics = new Map<string, TopicBuffer>();
  private readonly idle = new Set<() => void>();
  private closed = false;

  constructor(options: ProducerOptions) {
    this.transport = new Transport(options);
    this.lingerMs = options.lingerMs ?? 2;
    this.maxBatchMessages = options.maxBatchMessages ?? 500;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    this.maxInFlight = options.maxInFlightPerTopic ?? 1;
    this.rejectWhenFull = options.onBufferFull === 'reject';
    this.budget = new ByteBudget(options.maxBufferedBytes ?? 32 * 1024 * 1024);
  }

  /** Bytes of message JSON held now (buffered or in flight); never above maxBufferedBytes. */
  get bufferedBytes(): number {
    return this.budget.usedBytes;
  }

  /** `enqueue` calls waiting for room in the buffer. */
  get waitingEnqueues(): number {
    return this.budget.waiting;
  }

  /** Produces `messages` in one request, answered once they are committed; results in order. */
  async send(topic: string, messages: OutgoingMessage[]): Promise<SendResult[]> {
    if (this.closed) throw new ProducerClosedError();
    return this.post(topic, `{"messages":[${messages.map((m) => JSON.stringify(m)).join(',')}]}`);
  }

  /** Adds one message to its topic's next batch; resolves with where it was stored. */
  enqueue(topic: string, message: OutgoingMessage): Promise<SendResult> {
    if (this.closed) return Promise.reject(new ProducerClosedError());
    let json: string;
    try {
      json = JSON.stringify(message);
    } catch (err) {
      return Promise.reject(asError(err));
    }
    const bytes = Buffer.byteLength(json);
    if (bytes > this.budget.limit) return Promise.reject(new MessageTooLargeError(bytes, this.budget.limit));
    return new Promise<SendResult>((resolve, reject) => {
      const entry: Entry = { json, bytes, resolve, reject };
      if (this.budget.tryTake(bytes)) this.admit(topic, entry);
      else if (this.rejectWhenFull) reject(new BufferFullError(this.budget.usedBytes, this.budget.limit));
      else this.budget.wait(bytes, () => this.admit(topic, entry));
    });
  }

  /** Sends everything enqueued so far (and anything waiting for room) and waits for the answers. */
  async flush(): Promise<void> {
    while (this.budget.usedBytes > 0 || this.budget.waiting > 0) {
      for (const [topic, buffer] of this.topics) this.dispatch(topic, buffer, true);
      await new Promise<void>((resolve) => this.idle.add(resolve));
    }
  }

  /** Flushes, then refuses new sends. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private admit(topic: string, entry: Entry): void {
    let buffer = this.topics.get(topic);
    if (!buffer) {
      buffer = { entries: [], bytes: 0, inFlight: 0, timer: undefined };
      this.topics.set(topic, buffer);
    }
    buffer.entries.push(entry);
    buffer.bytes += entry.bytes;
    if (buffer.entries.length >= this.maxBatchMessages || buffer.bytes >= this.maxBatchBytes) this.dispatch(topic, buffer, true);
    else buffer.timer ??= setTimeout(() => this.dispatch(topic, buffer, true), this.lingerMs);
  }

  /** Sends batches while the topic has room in flight; `force` sends a partial batch too. */
  private dispatch(topic: string, buffer: TopicBuffer, force: boolean): void {
    while (buffer.entries.length > 0 && buffer.inFlight < this.maxInFlight) {
      const full = buffer.entries.length >= this.maxBatchMessages || buffer.bytes >= this.maxBatchBytes;
      if (!force && !full) break;
      const batch = this.takeBatch(buffer);
      buffer.inFlight += 1;
      void this.sendBatch(topic, batch).finally(() => {
        buffer.inFlight -= 1;
        this.budget.give(batch.reduce((n, e) => n + e.bytes, 0));
        // Whatever gathered while this batch was in flight goes at once, after the callers
        // answered by it had their turn to enqueue again.
        setImmediate(() => {
          this.dispatch(topic, buffer, true);
          this.notifyIdle();
        });
      });
    }
    if (buffer.entries.length === 0 && buffer.timer) {
      clearTimeout(buffer.timer);
      buffer.timer = undefined;
    }
  }

  private takeBatch(buffer: TopicBuffer): Entry[] {
    let count = 0;
    let bytes = 0;
    while (count < buffer.entries.length && count < this.maxBatchMessages) {
      const next = buffer.entries[count]!.bytes;
      if (count > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      count += 1;
    }
    buffer.bytes -= bytes;
    if (buffer.timer) {
      clearTimeout(buffer.timer);
      buffer.timer = undefined;
    }
    return buffer.entries.splice(0, count);
  }

  /**
   * Sends one batch and settles its messages. A 4xx that names some of the messages (schema
   * errors, a message too large) rejects those and sends the rest again; any other error
   * rejects the whole batch.
   */
  private async sendBatch(topic: string, batch: Entry[]): Promise<void> {
    let remaining = batch;
    while (remaining.length > 0) {
      try {
        const results = await this.post(topic, `{"messages":[${remaining.map((e) => e.json).join(',')}]}`);
        remaining.forEach((e, i) => e.resolve(results[i]!));
        return;
      } catch (caught) {
        const err = asError(caught);
        const named = err instanceof BrokerResponseError ? offendingIndexes(err, remaining.length) : undefined;
        if (!named || named.size === 0 || named.size === remaining.length) {
          for (const e of remaining) e.reject(err);
          return;
        }
        for (const i of named) remaining[i]!.reject(err);
        remaining = remaining.filter((_, i) => !named.has(i));
      }
    }
  }

  private async post(topic: string, body: string): Promise<SendResult[]> {
    const answer = await this.transport.call<{ results: SendResult[] }>('POST', `/api/v1/topics/${encodeURIComponent(topic)}/messages`, body);
    return answer.results;
  }

  /** Wakes flush(), which checks again whether anything is left. */
  private notifyIdle(): void {
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}

/**
 * The messages a produce error is about, when the broker names them: `details.index`, or schema
 * errors at `/messages/<i>/...`. Undefined when the error concerns the request as a whole.
 */
export function offendingIndexes(err: BrokerResponseError, count: number): Set<number> | undefined {
  if (err.status !== 400 && err.status !== 413) return undefined;
  const indexes = new Set<number>();
  const details = err.details as { index?: unknown } | { path?: unknown }[] | null;
  if (details && !Array.isArray(details) && typeof details.index === 'number') indexes.add(details.index);
  if (Array.isArray(details)) {
    for (const d of details) {
      const match = typeof d?.path === 'string' ? /^\/messages\/(\d+)(?:\/|$)/.exec(d.path) : null;
      if (!match) return undefined;
      indexes.add(Number(match[1]));
    }
  }
  for (const i of indexes) if (i >= count) return undefined;
  return indexes.size > 0 ? indexes : undefined;
}
