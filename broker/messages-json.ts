import type { StoredMessage } from '../shared/messages/message-store';

/**
 * A stored message as the API shows it. The body is spliced in as the JSON text it was stored as
 * (it was produced from JSON.stringify, so it is valid JSON), which spares a parse and re-stringify
 * per message on the pull path.
 */
export function messageJsonText(topic: string, queueId: number, m: StoredMessage): string {
  return (
    `{"topic":${JSON.stringify(topic)},"queueId":${queueId},"id":${m.id},"body":${m.body.toString('utf8')}` +
    `,"key":${JSON.stringify(m.key)},"tag":${JSON.stringify(m.tag)},"traceId":${JSON.stringify(m.traceId)}` +
    `,"headers":${m.headers ?? 'null'},"retryCount":${m.retryCount},"createdAt":"${m.createdAt}"}`
  );
}
