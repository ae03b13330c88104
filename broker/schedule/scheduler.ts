import { BrokerError, toError } from '../../shared/errors';
import type { Knex } from 'knex';
import { retryOnDeadlock } from '../../shared/db/mysql-errors';
import { copyMessage } from '../../shared/messages/message';
import { anythingDue, claimDueMessages, deleteScheduled, postponeScheduled, type ScheduledMessage } from '../../shared/metadata/schedules';
import type { BrokerContext } from '../context';
import type { Producer } from '../produce/producer';

/**
 * Moves due scheduled messages (delayed produces, retries, dead-letter moves) into their topics.
 * Every broker runs one; SKIP LOCKED keeps them from moving the same rows. A batch is written to
 * its topic and only then deleted from the schedule, in one metadata transaction: a crash in
 * between delivers it twice, never zero times.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly producer: Producer,
  ) {}

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.moveDue()
        .then(
          () => undefined,
          (err: unknown) => {
            this.ctx.logger.warn('scheduler pass failed; will retry', { err: toError(err).message });
          },
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.ctx.config.schedulerPollMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Moves everything due now, batch by batch; returns how many messages moved. */
  async moveDue(): Promise<number> {
    let moved = 0;
    if (!(await anythingDue(this.ctx.db))) return moved;
    for (;;) {
      const batch = await retryOnDeadlock(() => this.ctx.db.transaction((trx) => this.moveBatch(trx)));
      moved += batch;
      if (batch < this.ctx.config.schedulerBatchSize || this.stopped) return moved;
    }
  }

  /**
   * Delivers one batch, topic by topic. A topic whose messages can't be delivered now (no writable
   * queue, its node down, the topic gone) must not hold up the others: its rows are postponed with
   * a per-row backoff and counted, and the rest of the batch moves on.
   */
  private async moveBatch(trx: Knex.Transaction): Promise<number> {
    const due = await claimDueMessages(trx, this.ctx.config.schedulerBatchSize);
    if (due.length === 0) return 0;
    const byTopic = new Map<number, ScheduledMessage[]>();
    for (const m of due) {
      const list = byTopic.get(m.topicId);
      if (list) list.push(m);
      else byTopic.set(m.topicId, [m]);
    }
    const delivered: number[] = [];
    for (const [topicId, messages] of byTopic) {
      const ids = messages.map((m) => m.id);
      try {
        const topic = await this.ctx.catalog.topicById(topicId);
        const view = topic && (await this.ctx.catalog.topic(topic.name));
        if (!view) throw new BrokerError('TOPIC_NOT_FOUND', `topic ${topicId} does not exist`, { topicId });
        await this.producer.deliver(
          view,
          messages.map((m) => copyMessage(m)),
        );
        delivered.push(...ids);
      } catch (err) {
        const reason = err instanceof BrokerError ? `${err.code}: ${err.message}` : toError(err).message;
        await postponeScheduled(trx, ids, reason);
        const topic = this.ctx.catalog.cachedTopicById(topicId)?.name ?? String(topicId);
        this.ctx.metrics.postponed.inc({ topic }, ids.length);
        this.ctx.logger.warn('scheduled messages not deliverable now; postponed with backoff', { topic, count: ids.length, reason });
      }
    }
    await deleteScheduled(trx, delivered);
    return due.length;
  }
}
