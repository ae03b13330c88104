/** What the client sends and receives: the broker's produce and pull shapes. */

/** A message to produce. `body` is any JSON value. */
export interface OutgoingMessage {
  body: unknown;
  /** Messages with one key go to one queue, so they stay in order. */
  key?: string;
  tag?: string;
  traceId?: string;
  headers?: Record<string, string>;
  /** Deliver this many ms from now (or at `deliverAt`, an ISO time); not both. */
  delayMs?: number;
  deliverAt?: string;
}

/** Where a produced message was stored, or when a delayed one is due. */
export type SendResult = { queueId: number; id: number } | { queueId: null; id: null; scheduledId: number; dueAt: string };

/** A message as a pull returns it (body decoded). */
export interface ReceivedMessage<Body = unknown> {
  topic: string;
  queueId: number;
  id: number;
  body: Body;
  key: string | null;
  tag: string | null;
  traceId: string | null;
  headers: Record<string, string> | null;
  retryCount: number;
  createdAt: string;
}

/** Where the next pull starts on a queue (the id of the last message read). */
export interface Position {
  queueId: number;
  offset: number;
}

export interface PullAnswer {
  generation: number;
  messages: ReceivedMessage[];
  positions: Position[];
}

export interface Assignment {
  topic: string;
  queueId: number;
  committedOffset?: number;
}

export interface RegisterAnswer {
  consumerId: number;
  generation: number;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  assignments: Assignment[];
}

export interface HeartbeatAnswer {
  consumerId: number;
  generation: number;
  assignments: Assignment[];
}
