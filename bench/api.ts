/** The slice of tablemq's HTTP API the benchmark drives: topic and group setup, produce, pull, commit. */
import { JsonClient, type HttpAnswer } from './http-client';

export interface TopicInfo {
  id: number;
  name: string;
  queues: { id: number; table: string }[];
}

export interface Position {
  queueId: number;
  offset: number;
}

export interface PulledMessage {
  queueId: number;
  id: number;
  body: unknown;
}

export interface PullAnswer {
  generation: number;
  messages: PulledMessage[];
  positions: Position[];
}

function isTopicInfo(v: unknown): v is TopicInfo {
  return typeof v === 'object' && v !== null && 'queues' in v && Array.isArray(v.queues);
}

export function parsePull(answer: HttpAnswer): PullAnswer {
  if (answer.status !== 200) throw new Error(`pull: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
  const parsed = JSON.parse(answer.text) as PullAnswer; // the broker's documented pull answer
  if (!Array.isArray(parsed.messages) || !Array.isArray(parsed.positions)) throw new Error('pull: unexpected answer shape');
  return parsed;
}

export const producePath = (topic: string): string => `/api/v1/topics/${encodeURIComponent(topic)}/messages`;

/** Setup calls (one at a time, unmeasured) and the consumer protocol for one consumer group. */
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

  async register(group: string, name: string): Promise<number> {
    const body = (await this.client.postJson(`/api/v1/groups/${group}/consumers`, { name }, 201)) as { consumerId?: unknown };
    if (typeof body.consumerId !== 'number') throw new Error(`register ${name}: no consumerId`);
    return body.consumerId;
  }
}

/** One registered consumer: pull and commit requests with pre-encoded bodies. */
export class Consumer {
  private readonly pullFields: { max: number; waitMs: number };
  private readonly pullBody: Buffer;
  private readonly base: string;

  constructor(
    private readonly client: JsonClient,
    group: string,
    readonly consumerId: number,
    max: number,
    waitMs: number,
  ) {
    this.base = `/api/v1/groups/${group}/consumers/${consumerId}`;
    this.pullFields = { max, waitMs };
    this.pullBody = Buffer.from(JSON.stringify(this.pullFields));
  }

  /** A pull from the committed offsets, or from `positions` (pipelining: pulling ahead of the commit). */
  async pull(positions?: Position[]): Promise<PullAnswer> {
    const body = positions === undefined ? this.pullBody : Buffer.from(JSON.stringify({ ...this.pullFields, positions }));
    return parsePull(await this.client.post(`${this.base}/pull`, body));
  }

  /** Commits a pull's positions; false when a rebalance fenced them (the next pull re-delivers). */
  async commit(positions: Position[], generation: number): Promise<boolean> {
    const answer = await this.client.post(`${this.base}/commit`, Buffer.from(JSON.stringify({ offsets: positions, generation })));
    if (answer.status === 409) return false;
    if (answer.status !== 200) throw new Error(`commit: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
    return true;
  }
}
