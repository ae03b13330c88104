/**
 * Consumer-group queue assignment: decides which live consumer owns each readable
 * queue. Pure and deterministic so every broker node computes the same answer from
 * the same database snapshot, and sticky so membership changes move few queues.
 */

export interface QueueSlot { queueId: number; topicId: number; owner: number | null }
export interface AssignmentInput { consumers: readonly number[]; queues: readonly QueueSlot[] }

const byNumber = (a: number, b: number): number => a - b;

/** Returns the new owner (consumer id or null) of every queue in input.queues, keyed by queueId. */
export function assignQueues(input: AssignmentInput): Map<number, number | null> {
  // Sort everything up front: the result must not depend on input array order.
  const consumers = [...new Set(input.consumers)].sort(byNumber);
  const result = new Map<number, number | null>();

  const topics = new Map<number, QueueSlot[]>();
  for (const q of input.queues) {
    const list = topics.get(q.topicId);
    if (list) list.push(q);
    else topics.set(q.topicId, [q]);
  }

  // Queues assigned so far across all topics; used only to spread the "extra" (ceil)
  // queues of uneven topics, so one consumer doesn't win every tie.
  const load = new Map<number, number>(consumers.map((c) => [c, 0]));

  for (const topicId of [...topics.keys()].sort(byNumber)) {
    const queues = (topics.get(topicId) ?? []).slice().sort((a, b) => a.queueId - b.queueId);
    if (consumers.length === 0) {
      for (const q of queues) result.set(q.queueId, null);
      continue;
    }

    // Current holdings of live consumers; dead or unknown owners count as unassigned.
    const held = new Map<number, number[]>(consumers.map((c) => [c, []]));
    const pool: number[] = [];
    for (const q of queues) {
      const mine = q.owner === null ? undefined : held.get(q.owner);
      if (mine) mine.push(q.queueId);
      else pool.push(q.queueId);
    }

    // Ceil quotas go to whoever currently holds the most of this topic (stickiness
    // first: a consumer at ceil never has to give a queue up), then to the least
    // loaded overall (spreads the extras), then lowest id (determinism).
    const heldCount = (c: number): number => held.get(c)?.length ?? 0;
    const loadOf = (c: number): number => load.get(c) ?? 0;
    const ranked = consumers.slice().sort(
      (a, b) => heldCount(b) - heldCount(a) || loadOf(a) - loadOf(b) || a - b,
    );
    const base = Math.floor(queues.length / consumers.length);
    const extras = queues.length % consumers.length;
    const quota = new Map<number, number>(ranked.map((c, i) => [c, base + (i < extras ? 1 : 0)]));

    // Each consumer keeps its lowest-id queues up to its quota; the rest are freed.
    for (const c of ranked) {
      const mine = held.get(c) ?? [];
      const keep = quota.get(c) ?? 0;
      for (const id of mine.slice(0, keep)) result.set(id, c);
      pool.push(...mine.slice(keep));
    }

    // Freed and unassigned queues fill remaining quota in queue-id order, consumers in
    // rank order. Quotas sum to the queue count, so the pool is used up exactly.
    pool.sort(byNumber);
    let next = 0;
    for (const c of ranked) {
      const share = quota.get(c) ?? 0;
      const missing = Math.max(0, share - heldCount(c));
      for (let i = 0; i < missing; i++) {
        const id = pool[next++];
        if (id !== undefined) result.set(id, c);
      }
      load.set(c, loadOf(c) + share);
    }
  }
  return result;
}
