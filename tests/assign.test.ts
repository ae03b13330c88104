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

/** Random case: 1-6 topics, 0-20 queues each, 0-8 consumers, owners live, dead or null. */
function randomCase(rnd: () => number): AssignmentInput {
  const consumers = distinct(rnd, int(rnd, 0, 8), 20);
  const topicIds = distinct(rnd, int(rnd, 1, 6), 50);
  const sizes = topicIds.map(() => int(rnd, 0, 20));
  const queueIds = distinct(rnd, sizes.reduce((a, b) => a + b, 0), 500);
  const owners: (number | null)[] = [null, ...consumers, ...DEAD_IDS];
  const queues: QueueSlot[] = [];
  topicIds.forEach((topicId, t) => {
    for (let i = 0; i < (sizes[t] ?? 0); i++) {
      queues.push({ queueId: queueIds[queues.length] ?? -1, topicId, owner: owners[int(rnd, 0, owners.length - 1)] ?? null });
    }
  });
  return { consumers, queues };
}

/** Runs `check` over many reproducible random cases. */
function forAll(check: (input: AssignmentInput, rnd: () => number, seed: number) => void, cases = 2000): void {
  for (let seed = 1; seed <= cases; seed++) {
    const rnd = mulberry32(seed);
    check(randomCase(rnd), rnd, seed);
  }
}

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

test('stickiness beats overall spread: extras already held stay put', () => {
  // Consumer 1 holds the single queue of both topics; balance per topic allows it.
  const result = assignQueues({ consumers: [1, 2], queues: [q(1, 1, 1), q(2, 2, 1)] });
  assert.deepEqual(sortedEntries(result), [[1, 1], [2, 1]]);
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

test('property: within each topic every consumer gets floor(m/n) or ceil(m/n) queues', () => {
  forAll(({ consumers, queues }, _rnd, seed) => {
    if (consumers.length === 0) return; // covered by the previous property
    const result = assignQueues({ consumers, queues });
    for (const [topicId, topicQueues] of byTopic(queues)) {
      const m = topicQueues.length;
      const n = consumers.length;
      const perConsumer = counts(result, topicQueues);
      for (const c of consumers) {
        const got = perConsumer.get(c) ?? 0;
        assert.ok(got === Math.floor(m / n) || got === Math.ceil(m / n), `seed ${seed} topic ${topicId}: ${c} got ${got} of ${m}/${n}`);
      }
    }
  });
});

test('property: result does not depend on input order', () => {
  forAll(({ consumers, queues }, rnd, seed) => {
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

test('property: a stable assignment is left unchanged', () => {
  forAll(({ consumers, queues }, _rnd, seed) => {
    const stable = assignQueues({ consumers, queues });
    const again = assignQueues({ consumers, queues: withOwners(queues, stable) });
    assert.deepEqual(sortedEntries(again), sortedEntries(stable), `seed ${seed}`);
  });
});

test('property: a joining consumer takes only its share, and only it receives moved queues', () => {
  let nonTrivial = 0;
  forAll(({ consumers, queues }, _rnd, seed) => {
    const stable = assignQueues({ consumers, queues });
    const newcomer = 50; // never among the random consumer ids (1..20) or dead ids
    const after = assignQueues({ consumers: [...consumers, newcomer], queues: withOwners(queues, stable) });
    const changed = moved(stable, after);
    assert.equal(changed.length, counts(after).get(newcomer) ?? 0, `seed ${seed}`);
    for (const id of changed) assert.equal(after.get(id), newcomer, `seed ${seed}: queue ${id}`);
    if (changed.length > 0) nonTrivial++;
  });
  assert.ok(nonTrivial > 1000, `only ${nonTrivial} joins moved any queue`);
});

test('property: a leaving consumer releases only its own queues', () => {
  let checked = 0;
  forAll(({ consumers, queues }, rnd, seed) => {
    if (consumers.length === 0) return;
    const stable = assignQueues({ consumers, queues });
    const leaver = consumers[int(rnd, 0, consumers.length - 1)];
    const after = assignQueues({ consumers: consumers.filter((c) => c !== leaver), queues: withOwners(queues, stable) });
    for (const id of moved(stable, after)) assert.equal(stable.get(id), leaver, `seed ${seed}: queue ${id}`);
    for (const [id, owner] of after) assert.notEqual(owner, leaver, `seed ${seed}: queue ${id}`);
    if ((counts(stable).get(leaver ?? -1) ?? 0) > 0) checked++;
  });
  assert.ok(checked > 1000, `only ${checked} leavers owned any queue`);
});

test('property: from scratch, total queues per consumer differ by at most 1', () => {
  forAll(({ consumers, queues }, _rnd, seed) => {
    if (consumers.length === 0) return;
    const result = assignQueues({ consumers, queues: queues.map((s) => ({ ...s, owner: null })) });
    const totals = counts(result);
    const values = consumers.map((c) => totals.get(c) ?? 0);
    assert.ok(Math.max(...values) - Math.min(...values) <= 1, `seed ${seed}: ${values.join(',')}`);
  });
});
