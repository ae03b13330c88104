import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignQueues, type AssignmentInput, type QueueSlot } from '../shared/rebalance/assign';

// ---- helpers -------------------------------------------------------------------

/** mulberry32: tiny seeded PRNG so every property case is reproducible from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rnd: () => number, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));

function shuffle<T>(rnd: () => number, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(rnd, 0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Distinct ids drawn from 1..max. */
function distinct(rnd: () => number, count: number, max: number): number[] {
  return shuffle(rnd, Array.from({ length: max }, (_, i) => i + 1)).slice(0, count);
}

const DEAD_IDS = [101, 102, 103];

/** A random group: `topics` topics of up to `maxQueues` queues (about a third in tier 1, like retry topics), `consumers` consumers, owners live, dead or null. */
function randomGroup(rnd: () => number, shape: { topics: [number, number]; maxQueues: number; consumers: [number, number] }): AssignmentInput {
  const consumers = distinct(rnd, int(rnd, ...shape.consumers), 40);
  const topicIds = distinct(rnd, int(rnd, ...shape.topics), 100);
  const sizes = topicIds.map(() => int(rnd, 0, shape.maxQueues));
  const tiers = topicIds.map(() => (rnd() < 0.3 ? 1 : 0));
  const queueIds = distinct(rnd, sizes.reduce((a, b) => a + b, 0), 2000);
  const owners: (number | null)[] = [null, ...consumers, ...DEAD_IDS];
  const queues: QueueSlot[] = [];
  topicIds.forEach((topicId, t) => {
    for (let i = 0; i < (sizes[t] ?? 0); i++) {
      queues.push({ queueId: queueIds[queues.length] ?? -1, topicId, tier: tiers[t] ?? 0, owner: owners[int(rnd, 0, owners.length - 1)] ?? null });
    }
  });
  return { consumers, queues };
}

/** Random case: 1-6 topics, 0-20 queues each, 0-8 consumers. */
const randomCase = (rnd: () => number): AssignmentInput => randomGroup(rnd, { topics: [1, 6], maxQueues: 20, consumers: [0, 8] });

/** Random case with many topics: 10-40 topics, 0-12 queues each, 1-30 consumers. */
const manyTopicsCase = (rnd: () => number): AssignmentInput => randomGroup(rnd, { topics: [10, 40], maxQueues: 12, consumers: [1, 30] });

/** Runs `check` over many reproducible random cases. */
function forAll(check: (input: AssignmentInput, rnd: () => number, seed: number) => void, cases = 2000, generate = randomCase): void {
  for (let seed = 1; seed <= cases; seed++) {
    const rnd = mulberry32(seed);
    check(generate(rnd), rnd, seed);
  }
}

/** forAll over groups with many topics (fewer cases: each is larger). */
const forAllManyTopics = (check: (input: AssignmentInput, rnd: () => number, seed: number) => void): void => forAll(check, 300, manyTopicsCase);

/** The same queues with owners replaced by an assignment result. */
const withOwners = (queues: readonly QueueSlot[], owners: Map<number, number | null>): QueueSlot[] =>
  queues.map((q) => ({ ...q, owner: owners.get(q.queueId) ?? null }));

/** Queue count per consumer (null owners not counted). */
function counts(result: Map<number, number | null>, queues: readonly QueueSlot[] = []): Map<number, number> {
  const ids = queues.length > 0 ? new Set(queues.map((q) => q.queueId)) : null;
  const out = new Map<number, number>();
  for (const [queueId, owner] of result) {
    if (owner !== null && (ids === null || ids.has(queueId))) out.set(owner, (out.get(owner) ?? 0) + 1);
  }
  return out;
}

function byTopic(queues: readonly QueueSlot[]): Map<number, QueueSlot[]> {
  const out = new Map<number, QueueSlot[]>();
  for (const q of queues) out.set(q.topicId, [...(out.get(q.topicId) ?? []), q]);
  return out;
}

const sortedEntries = (m: Map<number, number | null>): [number, number | null][] =>
  [...m.entries()].sort((a, b) => a[0] - b[0]);

/** Queue ids whose owner differs between two results. */
const moved = (before: Map<number, number | null>, after: Map<number, number | null>): number[] =>
  [...after.keys()].filter((id) => before.get(id) !== after.get(id));

function q(queueId: number, topicId: number, owner: number | null = null): QueueSlot {
  return { queueId, topicId, owner };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// ---- examples ------------------------------------------------------------------

test('3 consumers and 12 queues get 4 each', () => {
  const result = assignQueues({ consumers: [1, 2, 3], queues: range(1, 12).map((id) => q(id, 7)) });
  assert.deepEqual(sortedEntries(new Map(counts(result))), [[1, 4], [2, 4], [3, 4]]);
});

test('a 4th consumer joining 3 (12 queues) moves exactly 3 queues, all to the newcomer', () => {
  const queues = range(1, 12).map((id) => q(id, 7));
  const before = assignQueues({ consumers: [1, 2, 3], queues });
  const after = assignQueues({ consumers: [1, 2, 3, 4], queues: withOwners(queues, before) });
  const changed = moved(before, after);
  assert.equal(changed.length, 3);
  for (const id of changed) assert.equal(after.get(id), 4);
  assert.equal(counts(after).get(4), 3);
});

test('a consumer leaving moves only its own queues', () => {
  const queues = range(1, 12).map((id) => q(id, 7));
  const before = assignQueues({ consumers: [1, 2, 3, 4], queues });
  const after = assignQueues({ consumers: [1, 3, 4], queues: withOwners(queues, before) });
  const changed = moved(before, after);
  assert.equal(changed.length, 3);
  for (const id of changed) assert.equal(before.get(id), 2);
  assert.deepEqual([...counts(after).values()], [4, 4, 4]);
});

test('no consumers leaves every queue unassigned', () => {
  const result = assignQueues({ consumers: [], queues: [q(1, 1, 5), q(2, 1), q(3, 2, 6)] });
  assert.deepEqual(sortedEntries(result), [[1, null], [2, null], [3, null]]);
});

test('owners that are not live consumers count as unassigned', () => {
  // Consumer 9 is gone; its queues are reassigned while live owners keep theirs.
  const result = assignQueues({ consumers: [1, 2], queues: [q(1, 1, 9), q(2, 1, 9), q(3, 1, 1), q(4, 1, 2)] });
  assert.equal(result.get(3), 1);
  assert.equal(result.get(4), 2);
  assert.deepEqual(sortedEntries(new Map(counts(result))), [[1, 2], [2, 2]]);
  assert.ok(![...result.values()].includes(9));
});

test('10 one-queue topics over 5 consumers give each consumer 2', () => {
  const result = assignQueues({ consumers: [1, 2, 3, 4, 5], queues: range(1, 10).map((t) => q(t, t)) });
  assert.deepEqual(sortedEntries(new Map(counts(result))), [[1, 2], [2, 2], [3, 2], [4, 2], [5, 2]]);
});

test('group balance beats stickiness: a consumer holding both one-queue topics hands one over', () => {
  // Per topic either consumer may hold the single queue, but the group total (2 over 2) says 1 each.
  const result = assignQueues({ consumers: [1, 2], queues: [q(1, 1, 1), q(2, 2, 1)] });
  assert.deepEqual(sortedEntries(result), [[1, 1], [2, 2]]);
});

/** Consumers 1..n joining one at a time, each join rebalancing from the previous result (as the broker does). */
function joinOneByOne(n: number, queues: readonly QueueSlot[]): Map<number, number | null> {
  let result = new Map<number, number | null>();
  for (let joined = 1; joined <= n; joined++) result = assignQueues({ consumers: range(1, joined), queues: withOwners(queues, result) });
  return result;
}

test('100 consumers joining one by one over 50 topics of 20 queues (and a retry queue each) own 10 or 11 queues, 10 of the topic queues each', () => {
  const queues = range(1, 50).flatMap((t) => [...range(1, 20).map((i) => q(t * 100 + i, t)), { ...q(t * 100 + 99, 1000 + t), tier: 1 }]);
  const consumers = range(1, 100);
  const result = joinOneByOne(100, queues);
  const totals = counts(result);
  const topicQueues = counts(result, queues.filter((s) => s.tier === undefined));
  for (const c of consumers) {
    assert.ok([10, 11].includes(totals.get(c) ?? 0), `consumer ${c} owns ${totals.get(c)}`);
    assert.equal(topicQueues.get(c), 10, `consumer ${c}`);
  }
});

test('60 consumers joining one by one over 30 topics of 4 queues own 2 each, not 4 consumers owning everything', () => {
  // Balanced per topic alone, the 4 first consumers would keep a queue of every topic.
  const queues = range(1, 30).flatMap((t) => range(1, 4).map((i) => q(t * 10 + i, t)));
  const result = joinOneByOne(60, queues);
  assert.deepEqual(new Set(counts(result).values()), new Set([2]));
  assert.equal(counts(result).size, 60);
});

test('freed and unassigned queues are handed out in queue id order, lowest consumer id first on ties', () => {
  // Consumer 1 keeps its lowest ids (1, 2) and frees 3-5; unassigned 6 joins the pool after them.
  const queues = [...range(1, 5).map((id) => q(id, 1, 1)), q(6, 1)];
  const result = assignQueues({ consumers: [3, 2, 1], queues });
  assert.deepEqual(sortedEntries(result), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 3], [6, 3]]);
});

test('duplicate consumer ids are treated as one consumer', () => {
  const result = assignQueues({ consumers: [1, 1, 2], queues: range(1, 4).map((id) => q(id, 1)) });
  assert.deepEqual(sortedEntries(new Map(counts(result))), [[1, 2], [2, 2]]);
});

// ---- balance rules -------------------------------------------------------------

const isFloorOrCeil = (got: number, total: number, n: number): boolean => got === Math.floor(total / n) || got === Math.ceil(total / n);

/** Asserts the three balance rules: per consumer over the group, over each tier, and over each topic. */
function assertBalanced({ consumers, queues }: AssignmentInput, result: Map<number, number | null>, label: string): void {
  const live = [...new Set(consumers)];
  const groups: [string, QueueSlot[]][] = [['group', [...queues]]];
  for (const tier of new Set(queues.map((s) => s.tier ?? 0))) groups.push([`tier ${tier}`, queues.filter((s) => (s.tier ?? 0) === tier)]);
  for (const [topicId, topicQueues] of byTopic(queues)) groups.push([`topic ${topicId}`, topicQueues]);
  for (const [name, subset] of groups) {
    const perConsumer = counts(result, subset.length > 0 ? subset : [q(-1, -1)]);
    for (const c of live) {
      const got = perConsumer.get(c) ?? 0;
      assert.ok(isFloorOrCeil(got, subset.length, live.length), `${label} ${name}: consumer ${c} got ${got} of ${subset.length}/${live.length}`);
    }
  }
}

/** Queues whose owner in `result` differs from their owner in the input (unowned or dead-owned queues always move). */
const movesOf = (queues: readonly QueueSlot[], result: Map<number, number | null>): number => queues.filter((s) => result.get(s.queueId) !== s.owner).length;

function combinations<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items as [T, ...T[]];
  return [...combinations(rest, k - 1).map((c) => [first, ...c]), ...combinations(rest, k)];
}

/**
 * The fewest moves any balanced assignment needs, by brute force: every way to hand each topic's
 * extra (m mod n) queues to distinct consumers, kept when the group and tier totals stay balanced.
 */
function fewestMoves({ consumers, queues }: AssignmentInput): number {
  const live = [...new Set(consumers)].sort((a, b) => a - b);
  const n = live.length;
  const topics = [...byTopic(queues).values()];
  const tierOf = (slots: QueueSlot[]): number => slots[0]?.tier ?? 0;
  let best = Infinity;
  const share = new Map<string, number>(); // `${consumer}:${topicIndex}` → quota
  const visit = (t: number): void => {
    if (t === topics.length) {
      const total = (c: number, tier?: number): number =>
        topics.reduce((sum, slots, i) => sum + (tier === undefined || tierOf(slots) === tier ? (share.get(`${c}:${i}`) ?? 0) : 0), 0);
      for (const c of live) {
        if (!isFloorOrCeil(total(c), queues.length, n)) return;
        for (const tier of [0, 1]) if (!isFloorOrCeil(total(c, tier), queues.filter((s) => (s.tier ?? 0) === tier).length, n)) return;
      }
      let moves = queues.filter((s) => s.owner === null || !live.includes(s.owner)).length;
      topics.forEach((slots, i) => {
        for (const c of live) moves += Math.max(0, slots.filter((s) => s.owner === c).length - (share.get(`${c}:${i}`) ?? 0));
      });
      best = Math.min(best, moves);
      return;
    }
    const slots = topics[t] ?? [];
    for (const extra of combinations(live, slots.length % n)) {
      for (const c of live) share.set(`${c}:${t}`, Math.floor(slots.length / n) + (extra.includes(c) ? 1 : 0));
      visit(t + 1);
    }
  };
  visit(0);
  return best;
}

// ---- properties ----------------------------------------------------------------

test('property: every queue gets exactly one entry in the result', () => {
  forAll(({ consumers, queues }, _rnd, seed) => {
    const result = assignQueues({ consumers, queues });
    assert.equal(result.size, queues.length, `seed ${seed}`);
    for (const slot of queues) {
      assert.ok(result.has(slot.queueId), `seed ${seed}: queue ${slot.queueId} missing`);
      const owner = result.get(slot.queueId);
      if (consumers.length === 0) assert.equal(owner, null, `seed ${seed}`);
      else assert.ok(owner !== null && owner !== undefined && consumers.includes(owner), `seed ${seed}: owner ${owner}`);
    }
  });
});

test('property: from any start, every consumer gets floor or ceil of the group total, of each tier and of each topic', () => {
  forAll((input, _rnd, seed) => {
    if (input.consumers.length > 0) assertBalanced(input, assignQueues(input), `seed ${seed}`);
  });
});

test('property (many topics): from any start, every consumer gets floor or ceil of the group total, of each tier and of each topic', () => {
  forAllManyTopics((input, _rnd, seed) => assertBalanced(input, assignQueues(input), `seed ${seed}`));
});

test('property: result does not depend on input order', () => {
  forAll(({ consumers, queues }, rnd, seed) => {
    const a = assignQueues({ consumers, queues });
    const b = assignQueues({ consumers: shuffle(rnd, consumers), queues: shuffle(rnd, queues) });
    assert.deepEqual(sortedEntries(b), sortedEntries(a), `seed ${seed}`);
  });
});

test('property (many topics): result does not depend on input order', () => {
  forAllManyTopics(({ consumers, queues }, rnd, seed) => {
    const a = assignQueues({ consumers, queues });
    const b = assignQueues({ consumers: shuffle(rnd, consumers), queues: shuffle(rnd, queues) });
    assert.deepEqual(sortedEntries(b), sortedEntries(a), `seed ${seed}`);
  });
});

test('property: from any start, each consumer keeps min(current, new share) of its queues per topic', () => {
  forAll(({ consumers, queues }, _rnd, seed) => {
    const result = assignQueues({ consumers, queues });
    for (const [topicId, topicQueues] of byTopic(queues)) {
      const share = counts(result, topicQueues);
      for (const c of consumers) {
        const current = topicQueues.filter((s) => s.owner === c);
        const kept = current.filter((s) => result.get(s.queueId) === c).length;
        assert.equal(kept, Math.min(current.length, share.get(c) ?? 0), `seed ${seed} topic ${topicId} consumer ${c}`);
      }
    }
  });
});

test('property (many topics): a stable assignment is left unchanged', () => {
  forAllManyTopics(({ consumers, queues }, _rnd, seed) => {
    const stable = assignQueues({ consumers, queues });
    const again = assignQueues({ consumers, queues: withOwners(queues, stable) });
    assert.deepEqual(sortedEntries(again), sortedEntries(stable), `seed ${seed}`);
  });
});

/** Small groups (1-4 consumers, 1-3 topics of 0-5 queues) that brute force can still search. */
const smallCase = (rnd: () => number): AssignmentInput => randomGroup(rnd, { topics: [1, 3], maxQueues: 5, consumers: [1, 4] });

test('property: from any start, no balanced assignment moves fewer queues (brute force)', () => {
  forAll((input, _rnd, seed) => {
    assert.equal(movesOf(input.queues, assignQueues(input)), fewestMoves(input), `seed ${seed}`);
  }, 1500, smallCase);
});

test('property: a join moves the fewest queues possible, and at least the newcomer gets its share (brute force)', () => {
  let moving = 0;
  forAll(({ consumers, queues }, _rnd, seed) => {
    const stable = withOwners(queues, assignQueues({ consumers, queues }));
    const joined = { consumers: [...consumers, 50], queues: stable }; // 50 is never a random consumer id
    const after = assignQueues(joined);
    const moves = movesOf(stable, after);
    assert.equal(moves, fewestMoves(joined), `seed ${seed}`);
    assert.ok(moves >= (counts(after).get(50) ?? 0), `seed ${seed}`);
    if (moves > 0) moving++;
  }, 1500, smallCase);
  assert.ok(moving > 500, `only ${moving} joins moved any queue`);
});

test('property: a leave moves the fewest queues possible, and its queues all move (brute force)', () => {
  let moving = 0;
  forAll(({ consumers, queues }, rnd, seed) => {
    const stable = withOwners(queues, assignQueues({ consumers, queues }));
    const leaver = consumers[int(rnd, 0, consumers.length - 1)];
    const left = { consumers: consumers.filter((c) => c !== leaver), queues: stable };
    if (left.consumers.length === 0) return;
    const after = assignQueues(left);
    assert.equal(movesOf(stable, after), fewestMoves(left), `seed ${seed}`);
    for (const [id, owner] of after) assert.notEqual(owner, leaver, `seed ${seed}: queue ${id}`);
    if (stable.some((s) => s.owner === leaver)) moving++;
  }, 1500, smallCase);
  assert.ok(moving > 500, `only ${moving} leavers owned any queue`);
});

test('property (many topics): in a join only the newcomer gains queues overall, and a leave only hands out the leaver\'s', () => {
  // Balance within each topic can force an old consumer to trade one topic's queue for another's,
  // but never to end up with more queues than before a join or fewer than before a leave.
  forAllManyTopics(({ consumers, queues }, rnd, seed) => {
    const before = assignQueues({ consumers, queues });
    const stable = withOwners(queues, before);
    const joined = assignQueues({ consumers: [...consumers, 50], queues: stable });
    for (const c of consumers) assert.ok((counts(joined).get(c) ?? 0) <= (counts(before).get(c) ?? 0), `seed ${seed}: join, consumer ${c}`);
    const leaver = consumers[int(rnd, 0, consumers.length - 1)];
    const stayers = consumers.filter((c) => c !== leaver);
    if (stayers.length === 0) return;
    const left = assignQueues({ consumers: stayers, queues: stable });
    for (const c of stayers) assert.ok((counts(left).get(c) ?? 0) >= (counts(before).get(c) ?? 0), `seed ${seed}: leave, consumer ${c}`);
  });
});
