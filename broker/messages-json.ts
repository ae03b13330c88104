import type { StoredMessage } from '../shared/messages/message-store';

/**
 * A stored message as the API shows it, as JSON bytes. The body is spliced in as the JSON text it
 * was stored as (it was produced by JSON.stringify, so it is valid JSON) and stays a Buffer from
 * the database to the socket: no parse, re-stringify or UTF-8 round trip per message.
 */
export function messageJsonParts(topic: string, queueId: number, m: StoredMessage, out: Buffer[]): void {
  out.push(
    Buffer.from(`{"topic":${JSON.stringify(topic)},"queueId":${queueId},"id":${m.id},"body":`, 'utf8'),
    m.body,
    Buffer.from(
      `,"key":${JSON.stringify(m.key)},"tag":${JSON.stringify(m.tag)},"traceId":${JSON.stringify(m.traceId)}` +
        `,"headers":${m.headers ?? 'null'},"retryCount":${m.retryCount},"createdAt":"${m.createdAt}"}`,
      'utf8',
    ),
  );
}

export function messageJson(topic: string, queueId: number, m: StoredMessage): Buffer {
  const parts: Buffer[] = [];
  messageJsonParts(topic, queueId, m, parts);
  return Buffer.concat(parts);
}
