/** The slice of tablemq's HTTP API the benchmark drives itself: topic and group setup, produce (consumers use the client library). */
import type { JsonClient } from './http-client';

export interface TopicInfo {
  id: number;
  name: string;
  queues: { id: number; table: string }[];
}

function isTopicInfo(v: unknown): v is TopicInfo {
  return typeof v === 'object' && v !== null && 'queues' in v && Array.isArray(v.queues);
}

export const producePath = (topic: string): string => `/api/v1/topics/${encodeURIComponent(topic)}/messages`;

/** Setup calls, one at a time and unmeasured. */
export class TablemqApi {
  constructor(readonly client: JsonClient) {}

  async createTopic(name: string, queues: number): Promise<TopicInfo> {
    const body = await this.client.postJson('/api/v1/admin/topics', { name, queues }, 201);
    if (!isTopicInfo(body)) throw new Error(`create topic ${name}: unexpected answer ${JSON.stringify(body).slice(0, 200)}`);
    return body;
  }

  /** A group subscribed to `topic`, starting at its first message or at its end. */
  async createGroup(name: string, topic: string, start: 'earliest' | 'latest'): Promise<void> {
    await this.client.postJson('/api/v1/admin/groups', { name }, 201);
    await this.client.postJson(`/api/v1/admin/groups/${name}/subscriptions`, { topic, start }, 201);
  }

  /** Moves the group back to the topic's first message, so a drained backlog can be read again. */
  async rewind(group: string, topic: string): Promise<void> {
    await this.client.postJson(`/api/v1/admin/groups/${group}/offsets/reset`, { topic, to: 'earliest' }, 200);
  }
}
