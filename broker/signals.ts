import { EventEmitter } from 'node:events';

/**
 * In-process wake-ups: the produce path announces "queue Q has new rows" and long-polling pulls
 * on this broker wake at once. Pulls on other brokers find the rows by polling instead.
 */
export class QueueSignals {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per waiting pull: thousands of long-polls on a hot queue are expected.
    this.emitter.setMaxListeners(0);
  }

  appended(queueId: number): void {
    this.emitter.emit(String(queueId));
  }

  /** Resolves when any of the queues gets rows, or the signal aborts. Returns a cleanup. */
  onAppend(queueIds: readonly number[], listener: () => void): () => void {
    for (const id of queueIds) this.emitter.on(String(id), listener);
    return () => {
      for (const id of queueIds) this.emitter.off(String(id), listener);
    };
  }
}
