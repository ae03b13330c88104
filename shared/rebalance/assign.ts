/**
 * Consumer-group queue assignment: decides which live consumer owns each readable queue.
 *
 * Balanced as a whole group: every consumer gets the floor or ceiling of the group's total queue
 * count, and of each topic's count, and of each tier's count (a group's own topics and its retry
 * topics are tiers, so a retry queue never stands in for a real one). Pure and deterministic, so
 * every broker node computes the same answer from the same database snapshot. Sticky: among all
 * assignments balanced that way it picks one that moves the fewest queues.
 *
 * How: each topic gives every consumer floor(m/n) of its m queues; the m mod n "extra" queues go to
 * distinct consumers. Which consumer takes which topic's extras is a min-cost flow (topic → consumer
 * in that topic's tier → consumer → sink) whose capacities carry the balance bounds and whose costs
 * reward giving an extra to a consumer that already holds more than the floor of that topic.
 */
import { MinCostFlow } from './min-cost-flow';

export interface QueueSlot {
  queueId: number;
  topicId: number;
  owner: number | null;
  /** Balance tier of the queue's topic (default 0); each tier is balanced on its own as well. */
  tier?: number;
}
export interface AssignmentInput { consumers: readonly number[]; queues: readonly QueueSlot[] }

const byNumber = (a: number, b: number): number => a - b;

interface TopicSlots { topicId: number; tier: number; queues: QueueSlot[] }

/** Returns the new owner (consumer id or null) of every queue in input.queues, keyed by queueId. */
export function assignQueues(input: AssignmentInput): Map<number, number | null> {
  // Sort everything up front: the result must not depend on input array order.
  const consumers = [...new Set(input.consumers)].sort(byNumber);
  const topics = groupByTopic(input.queues);
  const result = new Map<number, number | null>();
  if (consumers.length === 0) {
    for (const q of input.queues) result.set(q.queueId, null);
    return result;
  }
  const quotas = topicQuotas(consumers, topics);
  for (const topic of topics) fillTopic(consumers, topic, quotas.get(topic.topicId) ?? new Map(), result);
  return result;
}

function groupByTopic(queues: readonly QueueSlot[]): TopicSlots[] {
  const topics = new Map<number, TopicSlots>();
  for (const q of queues) {
    const topic = topics.get(q.topicId);
    if (topic) topic.queues.push(q);
    else topics.set(q.topicId, { topicId: q.topicId, tier: q.tier ?? 0, queues: [q] });
  }
  const sorted = [...topics.values()].sort((a, b) => a.topicId - b.topicId);
  for (const t of sorted) t.queues.sort((a, b) => a.queueId - b.queueId);
  return sorted;
}

/** How many queues of one topic a live consumer holds now. */
function heldCounts(consumers: readonly number[], topic: TopicSlots): Map<number, number> {
  const held = new Map<number, number>(consumers.map((c) => [c, 0]));
  for (const q of topic.queues) {
    const count = q.owner === null ? undefined : held.get(q.owner);
    if (count !== undefined && q.owner !== null) held.set(q.owner, count + 1);
  }
  return held;
}

/** consumer's share of each topic: topicId → consumer → queue count. */
function topicQuotas(consumers: readonly number[], topics: readonly TopicSlots[]): Map<number, Map<number, number>> {
  const n = consumers.length;
  const quotas = new Map<number, Map<number, number>>();
  for (const t of topics) quotas.set(t.topicId, new Map(consumers.map((c) => [c, Math.floor(t.queues.length / n)])));

  const uneven = topics.filter((t) => t.queues.length % n > 0);
  if (uneven.length === 0) return quotas;
  const extrasOf = (t: TopicSlots): number => t.queues.length % n;
  const tiers = [...new Set(uneven.map((t) => t.tier))].sort(byNumber);
  const totalExtras = uneven.reduce((sum, t) => sum + extrasOf(t), 0);

  // Nodes: source, topics, (consumer, tier) pairs, consumers, sink.
  const source = 0;
  const topicNode = (i: number): number => 1 + i;
  const tierNode = (c: number, k: number): number => 1 + uneven.length + c * tiers.length + k;
  const consumerNode = (c: number): number => 1 + uneven.length + n * tiers.length + c;
  const sink = 1 + uneven.length + n * tiers.length + n;
  const flow = new MinCostFlow(sink + 1);
  // A mandatory unit (the floor of a consumer's share) outweighs every saving stickiness could make.
  const mandatory = -(totalExtras + 1);

  const extraEdges: { topicId: number; consumer: number; edge: number }[] = [];
  uneven.forEach((t, i) => {
    flow.addEdge(source, topicNode(i), extrasOf(t), 0);
    const held = heldCounts(consumers, t);
    const floor = Math.floor(t.queues.length / n);
    consumers.forEach((c, ci) => {
      const keepsOneMore = (held.get(c) ?? 0) > floor;
      const edge = flow.addEdge(topicNode(i), tierNode(ci, tiers.indexOf(t.tier)), 1, keepsOneMore ? -1 : 0);
      extraEdges.push({ topicId: t.topicId, consumer: c, edge });
    });
  });
  tiers.forEach((tier, k) => {
    const extras = uneven.filter((t) => t.tier === tier).reduce((sum, t) => sum + extrasOf(t), 0);
    consumers.forEach((_c, ci) => {
      flow.addEdge(tierNode(ci, k), consumerNode(ci), Math.floor(extras / n), mandatory);
      flow.addEdge(tierNode(ci, k), consumerNode(ci), extras % n > 0 ? 1 : 0, 0);
    });
  });
  consumers.forEach((_c, ci) => {
    flow.addEdge(consumerNode(ci), sink, Math.floor(totalExtras / n), mandatory);
    flow.addEdge(consumerNode(ci), sink, totalExtras % n > 0 ? 1 : 0, 0);
  });
  flow.solve(source, sink);

  for (const { topicId, consumer, edge } of extraEdges) {
    if (flow.flowOn(edge) === 0) continue;
    const share = quotas.get(topicId);
    share?.set(consumer, (share.get(consumer) ?? 0) + 1);
  }
  return quotas;
}

/** Each consumer keeps its lowest-id queues up to its quota; freed and unowned queues fill the gaps. */
function fillTopic(consumers: readonly number[], topic: TopicSlots, quota: Map<number, number>, result: Map<number, number | null>): void {
  const held = new Map<number, number[]>(consumers.map((c) => [c, []]));
  const pool: number[] = [];
  for (const q of topic.queues) {
    const mine = q.owner === null ? undefined : held.get(q.owner);
    if (mine) mine.push(q.queueId);
    else pool.push(q.queueId); // unowned, or owned by a consumer that is gone
  }
  for (const c of consumers) {
    const mine = held.get(c) ?? [];
    const keep = quota.get(c) ?? 0;
    for (const id of mine.slice(0, keep)) result.set(id, c);
    pool.push(...mine.slice(keep));
  }
  // Quotas sum to the topic's queue count, so the pool is used up exactly, in queue-id order.
  pool.sort(byNumber);
  let next = 0;
  for (const c of consumers) {
    const missing = Math.max(0, (quota.get(c) ?? 0) - (held.get(c)?.length ?? 0));
    for (let i = 0; i < missing; i++) {
      const id = pool[next++];
      if (id !== undefined) result.set(id, c);
    }
  }
}
