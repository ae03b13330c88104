import type { MetadataDb } from '../shared/db/metadata-db';
import type { Logger } from '../shared/logger';
import { findDbNodeById, listDbNodes } from '../shared/metadata/nodes';
import type { ConsumerGroup, DbNode, Queue, Subscription, Topic } from '../shared/metadata/rows';
import { allSubscriptions, findGroupByName, listGroups } from '../shared/metadata/groups';
import { allAllocatedQueues, findQueueById, findTopicById, findTopicByName, listTopics } from '../shared/metadata/topics';

export interface TopicView {
  topic: Topic;
  /** Every queue of the topic, by id. */
  queues: Queue[];
  /** Queues a produce may write to (queue writable and its node not read-only), by id. */
  writable: Queue[];
}

export interface QueueView {
  queue: Queue;
  node: DbNode;
  topic: Topic;
}

/**
 * The broker's in-memory copy of topics, queues and nodes (docs/architecture.md, "Stores"). Produce and pull
 * read from here, not from the metadata DB. It reloads every `refreshMs`, right after this
 * broker's own admin changes, and on a miss (a topic made through another broker). When the
 * metadata DB is down the last good copy keeps serving.
 */
export class Catalog {
  private topicsByName = new Map<string, TopicView>();
  private queuesById = new Map<number, QueueView>();
  private nodesById = new Map<number, DbNode>();
  private groupsByName = new Map<string, ConsumerGroup>();
  private tagFilters = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly db: MetadataDb,
    private readonly logger: Logger,
    private readonly refreshMs: number,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch((err: Error) => this.logger.warn('metadata refresh failed; serving the cached copy', { err: err.message }));
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reloads everything; concurrent callers share one reload. */
  reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async load(): Promise<void> {
    const [topics, queues, nodes, groups, subscriptions] = await Promise.all([
      listTopics(this.db),
      allAllocatedQueues(this.db),
      listDbNodes(this.db),
      listGroups(this.db),
      allSubscriptions(this.db),
    ]);
    const nodesById = new Map(nodes.map((n) => [n.id, n]));
    const topicsById = new Map(topics.map((t) => [t.id, t]));
    const topicsByName = new Map<string, TopicView>();
    for (const topic of topics) topicsByName.set(topic.name, { topic, queues: [], writable: [] });
    const queuesById = new Map<number, QueueView>();
    for (const queue of queues) {
      const topic = queue.topicId === null ? undefined : topicsById.get(queue.topicId);
      const node = nodesById.get(queue.dbNodeId);
      if (!topic || !node) continue;
      queuesById.set(queue.id, { queue, node, topic });
      const view = topicsByName.get(topic.name);
      view?.queues.push(queue);
      if (queue.writable && !node.readOnly) view?.writable.push(queue);
    }
    this.topicsByName = topicsByName;
    this.queuesById = queuesById;
    this.nodesById = nodesById;
    this.groupsByName = new Map(groups.map((g) => [g.name, g]));
    this.tagFilters = new Map(subscriptions.filter((s: Subscription) => s.tags !== null).map((s) => [`${s.groupId}:${s.topicId}`, new Set(s.tags)]));
  }

  /** The tags a group's subscription to a topic accepts; undefined = every message. */
  tagFilter(groupId: number, topicId: number): Set<string> | undefined {
    return this.tagFilters.get(`${groupId}:${topicId}`);
  }

  async topic(name: string): Promise<TopicView | undefined> {
    const cached = this.topicsByName.get(name);
    if (cached) return cached;
    const topic = await findTopicByName(this.db, name);
    if (!topic) return undefined;
    await this.reload();
    return this.topicsByName.get(name);
  }

  /** A topic from the cached copy only, without a trip to the metadata DB (for labels and logs). */
  cachedTopicById(id: number): Topic | undefined {
    for (const view of this.topicsByName.values()) if (view.topic.id === id) return view.topic;
    return undefined;
  }

  async topicById(id: number): Promise<Topic | undefined> {
    return this.cachedTopicById(id) ?? findTopicById(this.db, id);
  }

  async queue(id: number): Promise<QueueView | undefined> {
    const cached = this.queuesById.get(id);
    if (cached) return cached;
    const queue = await findQueueById(this.db, id);
    if (!queue || queue.topicId === null) return undefined;
    await this.reload();
    return this.queuesById.get(id);
  }

  /** A group's settings (paused, retries); the generation here may be stale, never fence with it. */
  async group(name: string): Promise<ConsumerGroup | undefined> {
    const cached = this.groupsByName.get(name);
    if (cached) return cached;
    const group = await findGroupByName(this.db, name);
    if (group) this.groupsByName.set(name, group);
    return group;
  }

  async node(id: number): Promise<DbNode | undefined> {
    return this.nodesById.get(id) ?? findDbNodeById(this.db, id);
  }
}
