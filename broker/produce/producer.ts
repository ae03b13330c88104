import { BrokerError } from '../../shared/errors';
import { asStoreError } from '../../shared/db/mysql-errors';
import { copyMessage, type NewMessage } from '../../shared/messages/message';
import { insertScheduled } from '../../shared/metadata/schedules';
import type { QueueView, TopicView } from '../catalog';
import { queueConnection } from '../queue-connection';
import type { BrokerContext } from '../context';
import { NodeWriter } from './group-commit/node-writer';
import { PendingBudget } from './group-commit/pending-budget';
import { insertBatches } from './group-commit/write-transaction';
import { QueueRouter, queueForKey } from './routing';
import type { Queue } from '../../shared/metadata/rows';
import type { ProduceMessage } from './schemas';

export type ProduceResult = { queueId: number; id: number } | { queueId: null; id: null; scheduledId: number; dueAt: string };

function noWritableQueue(topic: string): BrokerError {
  return new BrokerError('NO_WRITABLE_QUEUE', `topic ${topic} has no writable queue`, { topic });
}

/** The produce path: validate sizes, route, hand each queue's share to its group-commit writer. */
export class Producer {
  /** One group-commit writer per db node (by node id). */
  private readonly writers = new Map<number, Promise<NodeWriter>>();
  private readonly router = new QueueRouter();
  readonly budget: PendingBudget;

  constructor(private readonly ctx: BrokerContext) {
    this.budget = new PendingBudget(ctx.config.produceMaxPendingBytes);
  }

  async requireTopic(topicName: string): Promise<TopicView> {
    const view = await this.ctx.catalog.topic(topicName);
    if (!view) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${topicName} does not exist`, { topic: topicName });
    return view;
  }

  /**
   * `bodyTexts`, when given, holds each message's body as the JSON text the client sent (see
   * body-text.ts); otherwise bodies are stringified here.
   */
  async produce(topicName: string, messages: readonly ProduceMessage[], bodyTexts?: readonly string[]): Promise<ProduceResult[]> {
    const { maxMessagesPerRequest, maxDelayMs } = this.ctx.config;
    if (messages.length > maxMessagesPerRequest) {
      throw new BrokerError('TOO_MANY_MESSAGES', `a request may carry at most ${maxMessagesPerRequest} messages`, { count: messages.length, limit: maxMessagesPerRequest });
    }
    const view = await this.requireTopic(topicName);
    const { topic } = view;
    // Delayed messages too: one the scheduler could not deliver when due would only wait there.
    if (view.writable.length === 0) throw noWritableQueue(topic.name);

    // Everything that can reject the request happens before any row is handed to a writer.
    const now = Date.now();
    messages.forEach((m, index) => {
      if (m.delayMs !== undefined && m.deliverAt !== undefined) {
        throw new BrokerError('VALIDATION_FAILED', `message ${index} has both delayMs and deliverAt; give one`, { index });
      }
    });
    // deliverAt in the past means now. (The scheduler's clock is the metadata DB's; a broker
    // clock that is off shifts a deliverAt by that much.)
    const delays = messages.map((m) => (m.deliverAt === undefined ? (m.delayMs ?? 0) : Math.max(0, Date.parse(m.deliverAt) - now)));
    delays.forEach((delay, index) => {
      if (delay > maxDelayMs) {
        throw new BrokerError('VALIDATION_FAILED', `message ${index} is delayed ${delay} ms; the most is ${maxDelayMs} ms`, { index, delayMs: delay, limit: maxDelayMs });
      }
    });
    const rows = messages.map((m, index): NewMessage => {
      const body = bodyTexts?.[index] ?? JSON.stringify(m.body);
      // A UTF-16 code unit is at most 3 UTF-8 bytes: only bodies that could be too large are measured.
      const bytes = body.length * 3 > topic.maxMessageBytes ? Buffer.byteLength(body, 'utf8') : body.length;
      if (bytes > topic.maxMessageBytes) {
        throw new BrokerError('MESSAGE_TOO_LARGE', `message ${index} is ${bytes} bytes; topic ${topicName} allows ${topic.maxMessageBytes}`, {
          index,
          bytes,
          limit: topic.maxMessageBytes,
        });
      }
      return { tag: m.tag ?? null, key: m.key ?? null, traceId: m.traceId ?? null, headers: m.headers === undefined ? null : JSON.stringify(m.headers), body, retryCount: 0 };
    });

    const results = new Array<ProduceResult>(messages.length);
    const immediate = rows.map((_, i) => i).filter((i) => delays[i] === 0);
    const delayed = rows.map((_, i) => i).filter((i) => delays[i]! > 0);
    await Promise.all([
      immediate.length > 0 &&
        this.deliver(view, immediate.map((i) => rows[i]!)).then((placed) => {
          placed.forEach((p, k) => (results[immediate[k]!] = p));
        }),
      delayed.length > 0 &&
        this.schedule(
          topic.id,
          delayed.map((i) => rows[i]!),
          delayed.map((i) => delays[i]!),
        ).then((scheduled) => {
          scheduled.forEach((s, k) => (results[delayed[k]!] = { queueId: null, id: null, scheduledId: s.id, dueAt: s.dueAt.toISOString() }));
        }),
    ]);
    return results;
  }

  /** Durably parks messages until they are due; the scheduler moves them into the topic. */
  async schedule(topicId: number, rows: readonly NewMessage[], delaysMs: readonly number[]): Promise<{ id: number; dueAt: Date }[]> {
    try {
      return await insertScheduled(
        this.ctx.db,
        rows.map((r, i) => ({ ...copyMessage(r), topicId, delayMs: delaysMs[i]! })),
      );
    } catch (err) {
      throw asStoreError(err, 'the metadata database');
    }
  }

  /** Routes rows to the topic's writable queues and waits until every one is committed. */
  async deliver(view: TopicView, rows: readonly NewMessage[]): Promise<{ queueId: number; id: number }[]> {
    const { topic, writable } = view;
    if (writable.length === 0) throw noWritableQueue(topic.name);
    const byQueue = new Map<number, { indexes: number[]; rows: NewMessage[] }>();
    let unkeyed: Queue | undefined;
    rows.forEach((row, i) => {
      const queue = row.key === null ? (unkeyed ??= this.router.forUnkeyed(topic.id, writable)) : queueForKey(writable, row.key);
      let share = byQueue.get(queue.id);
      if (!share) byQueue.set(queue.id, (share = { indexes: [], rows: [] }));
      share.indexes.push(i);
      share.rows.push(row);
    });
    const results = new Array<{ queueId: number; id: number }>(rows.length);
    await Promise.all(
      [...byQueue].map(async ([queueId, share]) => {
        const target = await this.ctx.catalog.queue(queueId);
        if (!target) throw new BrokerError('QUEUE_NOT_FOUND', `queue ${queueId} does not exist`);
        const writer = await this.writerFor(target);
        const ids = await writer.append(queueId, target.queue.tableName, share.rows);
        this.ctx.metrics.produced.inc({ topic: topic.name }, share.rows.length);
        share.indexes.forEach((messageIndex, k) => {
          results[messageIndex] = { queueId, id: ids[k]! };
        });
      }),
    ).catch((err: unknown) => {
      if (err instanceof BrokerError && err.code === 'OVERLOADED') this.ctx.metrics.rejected.inc();
      throw asStoreError(err, 'the message database');
    });
    return results;
  }

  private writerFor(view: QueueView): Promise<NodeWriter> {
    const nodeId = view.node.id;
    let writer = this.writers.get(nodeId);
    if (!writer) {
      writer = this.openWriter(view);
      this.writers.set(nodeId, writer);
      writer.catch(() => this.writers.delete(nodeId));
    }
    return writer;
  }

  private async openWriter(view: QueueView): Promise<NodeWriter> {
    const conn = await queueConnection(this.ctx, view.queue);
    const { produceBatchMaxRows: maxRows, produceBatchMaxBytes: maxBytes, produceMaxInFlightPerNode: maxInFlight, produceReturnWaitMs: returnWaitMs } = this.ctx.config;
    const { metrics } = this.ctx;
    const node = view.node.name;
    return new NodeWriter(
      async (batches) => {
        const written = await insertBatches(conn.pool, batches, { maxTripBytes: maxBytes, idStep: conn.idStep });
        metrics.writes.inc({ node });
        metrics.inserts.inc({ node }, written.statements);
        return written.ids;
      },
      { maxRows, maxBytes, maxInFlight, returnWaitMs },
      this.budget,
      (queueId, lastId) => {
        this.ctx.signals.appended(queueId, lastId);
      },
      (queueIds) => this.router.released(queueIds),
    );
  }
}
