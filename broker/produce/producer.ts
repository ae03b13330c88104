import { BrokerError } from '../../shared/errors';
import { asStoreError } from '../../shared/db/mysql-errors';
import { insertMessages, type NewMessage } from '../../shared/messages/message-store';
import { nodeTarget, type QueueView } from '../catalog';
import type { BrokerContext } from '../context';
import { PendingBudget, QueueWriter } from './queue-writer';
import { QueueRouter } from './routing';
import type { ProduceMessage } from './schemas';

export interface ProduceResult {
  queueId: number;
  id: number;
}

/** The produce path: validate sizes, route, hand each queue's share to its group-commit writer. */
export class Producer {
  private readonly writers = new Map<number, Promise<QueueWriter>>();
  private readonly router = new QueueRouter();
  readonly budget: PendingBudget;

  constructor(private readonly ctx: BrokerContext) {
    this.budget = new PendingBudget(ctx.config.produceMaxPendingBytes);
  }

  async produce(topicName: string, messages: readonly ProduceMessage[]): Promise<ProduceResult[]> {
    if (messages.length > this.ctx.config.maxMessagesPerRequest) {
      throw new BrokerError('TOO_MANY_MESSAGES', `a request may carry at most ${this.ctx.config.maxMessagesPerRequest} messages`, {
        count: messages.length,
        limit: this.ctx.config.maxMessagesPerRequest,
      });
    }
    const view = await this.ctx.catalog.topic(topicName);
    if (!view) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${topicName} does not exist`, { topic: topicName });
    const { topic, writable } = view;
    if (writable.length === 0) throw new BrokerError('NO_WRITABLE_QUEUE', `topic ${topicName} has no writable queue`, { topic: topicName });

    // Everything that can reject the request happens before any row is handed to a writer.
    const rows = messages.map((m, index): NewMessage => {
      const body = Buffer.from(JSON.stringify(m.body), 'utf8');
      if (body.length > topic.maxMessageBytes) {
        throw new BrokerError('MESSAGE_TOO_LARGE', `message ${index} is ${body.length} bytes; topic ${topicName} allows ${topic.maxMessageBytes}`, {
          index,
          bytes: body.length,
          limit: topic.maxMessageBytes,
        });
      }
      return {
        tag: m.tag ?? null,
        key: m.key ?? null,
        traceId: m.traceId ?? null,
        headers: m.headers === undefined ? null : JSON.stringify(m.headers),
        body,
        retryCount: 0,
      };
    });

    const byQueue = new Map<number, { indexes: number[]; rows: NewMessage[] }>();
    messages.forEach((m, i) => {
      const queue = this.router.pick(topic.id, writable, m.key ?? null);
      let share = byQueue.get(queue.id);
      if (!share) byQueue.set(queue.id, (share = { indexes: [], rows: [] }));
      share.indexes.push(i);
      share.rows.push(rows[i]!);
    });

    const results = new Array<ProduceResult>(messages.length);
    await Promise.all(
      [...byQueue].map(async ([queueId, share]) => {
        const writer = await this.writerFor(queueId);
        const ids = await writer.append(share.rows);
        share.indexes.forEach((messageIndex, k) => {
          results[messageIndex] = { queueId, id: ids[k]! };
        });
      }),
    ).catch((err: unknown) => {
      throw asStoreError(err, 'the message database');
    });
    return results;
  }

  private writerFor(queueId: number): Promise<QueueWriter> {
    let writer = this.writers.get(queueId);
    if (!writer) {
      writer = this.openWriter(queueId);
      this.writers.set(queueId, writer);
      writer.catch(() => this.writers.delete(queueId));
    }
    return writer;
  }

  private async openWriter(queueId: number): Promise<QueueWriter> {
    const view: QueueView | undefined = await this.ctx.catalog.queue(queueId);
    if (!view) throw new BrokerError('QUEUE_NOT_FOUND', `queue ${queueId} does not exist`);
    const conn = await this.ctx.nodes.get(nodeTarget(view.node));
    const table = view.queue.tableName;
    const { produceBatchMaxRows: maxRows, produceBatchMaxBytes: maxBytes } = this.ctx.config;
    return new QueueWriter(
      (batch) => insertMessages(conn.pool, table, batch),
      { maxRows, maxBytes, maxInFlight: this.ctx.config.produceMaxInFlightPerQueue },
      conn.idStep,
      this.budget,
      (lastId) => this.ctx.signals.appended(queueId, lastId),
    );
  }
}
