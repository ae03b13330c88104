/** Shapes of metadata rows as the rest of the code sees them (booleans as booleans, ids as numbers). */
export type TopicKind = 'normal' | 'retry' | 'dead';
export type GroupMode = 'cluster' | 'broadcast';
export type StartFrom = 'latest' | 'earliest';

export interface DbNode {
  id: number;
  name: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  readOnly: boolean;
  createdAt: Date;
}

export interface Topic {
  id: number;
  name: string;
  kind: TopicKind;
  retentionHours: number;
  maxMessageBytes: number;
  owner: string | null;
  createdAt: Date;
}

export interface Queue {
  id: number;
  dbNodeId: number;
  tableName: string;
  topicId: number | null;
  readable: boolean;
  writable: boolean;
}

export interface ConsumerGroup {
  id: number;
  name: string;
  mode: GroupMode;
  paused: boolean;
  maxRetries: number;
  generation: number;
  createdAt: Date;
}

export interface Subscription {
  id: number;
  groupId: number;
  topicId: number;
  startFrom: StartFrom;
  tags: string[] | null;
  maxRetries: number | null;
  retryTopicId: number | null;
  deadTopicId: number | null;
  /** Retry delays by retry count (ms); null = the default schedule. */
  backoffMs: number[] | null;
  createdAt: Date;
}

export interface Consumer {
  id: number;
  groupId: number;
  name: string;
  host: string | null;
  heartbeatAt: Date;
  createdAt: Date;
}

export interface QueueOffset {
  groupId: number;
  queueId: number;
  topicId: number;
  consumerId: number | null;
  committedOffset: number;
  generation: number;
}
