import type { DbTarget } from '../db/connection-options';

/** Shapes of metadata rows as the rest of the code sees them (booleans as booleans, ids as numbers). */
export type TopicKind = 'normal' | 'retry' | 'dead';
export type GroupMode = 'cluster' | 'broadcast';
export type StartFrom = 'latest' | 'earliest';

export interface DbNode extends NewDbNode {
  id: number;
  /** As stored: sealed or marked plain (SecretBox); NodePools opens it to connect. */
  password: string;
  createdAt: Date;
}

/** A message db node as registered: how to reach it, its name, and whether queues may be made or written there. */
export interface NewDbNode extends DbTarget {
  name: string;
  readOnly: boolean;
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
  /** When a shrink made it non-writable on its way out of its topic; null otherwise. */
  retiringSince: Date | null;
  /** The shrink leaves without waiting for the groups to read the queue to its end. */
  shrinkForced: boolean;
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
  /** Lag (messages) above which portal-jobs raises an alert; null = never. */
  maxLag: number | null;
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
