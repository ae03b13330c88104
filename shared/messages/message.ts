/** A message as tablemq stores it in a queue table, and the shapes it takes on the way in and out. */

export interface NewMessage {
  tag: string | null;
  key: string | null;
  traceId: string | null;
  headers: string | null; // JSON text
  /**
   * The JSON text of the message body. In a text INSERT a string is sent as a quoted literal, a
   * Buffer as hex, which doubles the bytes on the wire: the produce path passes strings. A prepared
   * INSERT sends either as it is.
   */
  body: string | Buffer;
  retryCount: number;
}

export interface StoredMessage {
  id: number;
  tag: string | null;
  key: string | null;
  traceId: string | null;
  headers: string | null;
  body: Buffer;
  retryCount: number;
  /** ISO 8601, UTC, milliseconds: formatted by the server, so no Date is built per row. */
  createdAt: string;
}

/** One message of a queue as a pull hands it out: the id and tag the broker needs, and its API JSON. */
export interface MessageJsonRow {
  id: number;
  tag: string | null;
  json: Buffer;
}

/** About what a row weighs in a statement and in memory (the broker's budget and batch bounds use it too). */
export function rowBytes(m: NewMessage): number {
  return m.body.length + (m.headers?.length ?? 0) + 64;
}

/**
 * The fields of a message, and nothing else: for a message that moves on (a retry, a dead letter,
 * a resend, a delayed message becoming due) with some fields changed. The one place that lists
 * them, with the column mappings below.
 */
export function copyMessage(m: NewMessage, changes: Partial<NewMessage> = {}): NewMessage {
  return { tag: m.tag, key: m.key, traceId: m.traceId, headers: m.headers, body: m.body, retryCount: m.retryCount, ...changes };
}

/** A message's columns as the queue tables and scheduled_message store them. */
export interface MessageColumns {
  tag: string | null;
  msg_key: string | null;
  trace_id: string | null;
  headers: string | null;
  body: string | Buffer;
  retry_count: number;
}

/** The column names, in the order `messageValues` gives the values (the queue INSERT's order). */
export const MESSAGE_COLUMN_NAMES = ['tag', 'msg_key', 'trace_id', 'headers', 'body', 'retry_count'] as const;

export function toColumns(m: NewMessage): MessageColumns {
  return { tag: m.tag, msg_key: m.key, trace_id: m.traceId, headers: m.headers, body: m.body, retry_count: m.retryCount };
}

/** A message from its stored columns (the body as the driver returns a BLOB). */
export function fromColumns(r: MessageColumns & { body: Buffer }): NewMessage & { body: Buffer } {
  return { tag: r.tag, key: r.msg_key, traceId: r.trace_id, headers: r.headers, body: r.body, retryCount: r.retry_count };
}

/** The values of a message in MESSAGE_COLUMN_NAMES order. */
export function messageValues(m: NewMessage): [string | null, string | null, string | null, string | null, string | Buffer, number] {
  return [m.tag, m.key, m.traceId, m.headers, m.body, m.retryCount | 0];
}
