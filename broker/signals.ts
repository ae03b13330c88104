import { EventEmitter } from 'node:events';

/**
 * In-process wake-ups: the produce path announces "queue Q has new rows" and long-polling pulls
 * on this broker wake at once. Pulls on other brokers find the rows by polling instead.
 */
export class QueueSignals {
  private readonly emitter = new EventEmitter();
  private readonly maxIds = new Map<number, number>();
  private readonly endsSeen = new Map<number, number>();
  private readonly largestRows = new Map<number, number>();
  /** Counts announcements; each queue keeps the count of its latest one (see appendedSince). */
  private announcements = 0;
  private readonly lastAnnouncement = new Map<number, number>();

  constructor() {
    // One listener per waiting pull: thousands of long-polls on a hot queue are expected.
    this.emitter.setMaxListeners(0);
  }

  appended(queueId: number, lastId: number): void {
    this.seen(queueId, lastId);
    this.lastAnnouncement.set(queueId, ++this.announcements);
    this.emitter.emit(String(queueId));
  }

  /** A mark to pass to appendedSince later. */
  mark(): number {
    return this.announcements;
  }

  /**
   * Whether any of the queues got rows announced after `mark`: a pull that read between the two
   * and then starts waiting would otherwise miss an announcement made before it listened.
   */
  appendedSince(queueIds: Iterable<number>, mark: number): boolean {
    for (const id of queueIds) if ((this.lastAnnouncement.get(id) ?? 0) > mark) return true;
    return false;
  }

  /** Records an id known to exist, so commits up to it need no MAX(id) query. */
  seen(queueId: number, id: number): void {
    if (id > (this.maxIds.get(queueId) ?? 0)) this.maxIds.set(queueId, id);
  }

  knownMaxId(queueId: number): number {
    return this.maxIds.get(queueId) ?? 0;
  }

  /** A read found no row after `lastId`: the queue ended there at that moment (never a fence: see seen). */
  endSeen(queueId: number, lastId: number): void {
    this.endsSeen.set(queueId, lastId);
  }

  /**
   * True when this broker last saw the queue end at or before `from` and has heard of no row since.
   * A hint for sizing reads only: rows produced through another broker are not heard of here.
   */
  looksDrained(queueId: number, from: number): boolean {
    const end = this.endsSeen.get(queueId);
    return end !== undefined && from >= end && this.knownMaxId(queueId) <= end;
  }

  /** The largest row (API JSON bytes) of the queue's last read here. */
  rowSizeSeen(queueId: number, bytes: number): void {
    this.largestRows.set(queueId, bytes);
  }

  /**
   * Rows of about this size are expected at the queue's next read (undefined: not read here yet).
   * A hint for sizing reads to a byte bound, so that few rows are read only to be dropped.
   */
  expectedRowSize(queueId: number): number | undefined {
    return this.largestRows.get(queueId);
  }

  /** Resolves when any of the queues gets rows, or the signal aborts. Returns a cleanup. */
  onAppend(queueIds: readonly number[], listener: () => void): () => void {
    for (const id of queueIds) this.emitter.on(String(id), listener);
    return () => {
      for (const id of queueIds) this.emitter.off(String(id), listener);
    };
  }
}
