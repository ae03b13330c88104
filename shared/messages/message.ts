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
