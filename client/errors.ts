/**
 * Typed errors of the client. Every error the client raises or hands to `onError` is a
 * TablemqError with a stable `code`; answers of the broker keep the broker's code.
 */
export class TablemqError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The broker answered with an error status. `code` and `details` are the broker's. */
export class BrokerResponseError extends TablemqError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly details: unknown,
    readonly broker: string,
  ) {
    super(code, `${message} (HTTP ${status} from ${broker})`);
  }
}

/** 409 REBALANCED: this consumer may no longer act on some queues (`fenced`); nothing was applied. */
export class RebalancedError extends BrokerResponseError {
  get fenced(): FencedQueue[] {
    return fencedQueues(this.details);
  }
}

/**
 * A queue the broker refused to act on. `NOT_OWNED`: another consumer's now (or no one's);
 * `REASSIGNED`: still this consumer's, but it changed hands or was reset since the generation sent.
 */
export interface FencedQueue {
  queueId: number;
  reason?: string;
}

/**
 * The queues a commit answer (200) or a REBALANCED error's details say were fenced:
 * `fenced: [{queueId, reason}]`, or `fencedQueueIds: [id]` from brokers before partial commits.
 */
export function fencedQueues(answer: unknown): FencedQueue[] {
  const a = answer as { fenced?: unknown; fencedQueueIds?: unknown } | null;
  const list: unknown[] = Array.isArray(a?.fenced) ? a.fenced : Array.isArray(a?.fencedQueueIds) ? a.fencedQueueIds : [];
  return list
    .map((f) => (typeof f === 'number' ? { queueId: f } : (f as FencedQueue | null)))
    .filter((f): f is FencedQueue => typeof f?.queueId === 'number')
    .map((f) => (typeof f.reason === 'string' ? { queueId: f.queueId, reason: f.reason } : { queueId: f.queueId }));
}

/** 404 CONSUMER_EXPIRED: the broker forgot this consumer; it must register again. */
export class ConsumerExpiredError extends BrokerResponseError {}

/** Every broker failed (network error, timeout or 502/503/504) until the retry time ran out. */
export class BrokersUnavailableError extends TablemqError {
  constructor(message: string, cause: unknown) {
    super('BROKERS_UNAVAILABLE', message, { cause });
  }
}

/** A send or enqueue after `close()`. */
export class ProducerClosedError extends TablemqError {
  constructor() {
    super('PRODUCER_CLOSED', 'the producer is closed');
  }
}

/** The producer's buffer is full and it was configured to reject instead of waiting. */
export class BufferFullError extends TablemqError {
  constructor(bufferedBytes: number, limit: number) {
    super('BUFFER_FULL', `the producer buffer holds ${bufferedBytes} of ${limit} bytes; this message does not fit`);
  }
}

/** A message that can never fit the producer's buffer. */
export class MessageTooLargeError extends TablemqError {
  constructor(bytes: number, limit: number) {
    super('MESSAGE_TOO_LARGE', `a message of ${bytes} bytes is larger than the producer buffer (${limit} bytes)`);
  }
}

/** The broker's error body: {"error": {code, message, details}}. */
interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

/** The typed error for an error answer of a broker. */
export function errorFromAnswer(status: number, body: unknown, broker: string): BrokerResponseError {
  const e = (body as ErrorBody | null)?.error;
  const code = typeof e?.code === 'string' ? e.code : `HTTP_${status}`;
  const message = typeof e?.message === 'string' ? e.message : typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`;
  const details = e?.details ?? null;
  if (status === 409 && code === 'REBALANCED') return new RebalancedError(status, code, message, details, broker);
  if (status === 404 && code === 'CONSUMER_EXPIRED') return new ConsumerExpiredError(status, code, message, details, broker);
  return new BrokerResponseError(status, code, message, details, broker);
}

/** Normalises whatever a catch clause caught into an Error. */
export function asError(caught: unknown): Error {
  if (caught instanceof Error) return caught;
  return new Error(typeof caught === 'string' ? caught : JSON.stringify(caught));
}

/** A handler threw (or rejected) for these messages; they were reported with `fail`. */
export class HandlerError extends TablemqError {
  constructor(
    readonly messages: { topic: string; queueId: number; id: number }[],
    cause: unknown,
  ) {
    super('HANDLER_FAILED', `handler failed on ${messages.map((m) => `${m.topic}/${m.queueId}/${m.id}`).join(', ')}: ${asError(cause).message}`, { cause });
  }
}
