/**
 * Consume scenarios: a backlog produced beforehand on a multi-queue topic, drained by 1 or by 4
 * consumers of a group, each the client library's Consumer (pulls of 500 kept one ahead of the
 * handling, commits batched), handing each pull's messages of a queue to a batchHandler. Two
 * groups read the same backlog, so both drains see identical rows.
 */
import { performance } from 'node:perf_hooks';
import { Consumer } from '../client';
import { producePath, TablemqApi, type TopicInfo } from './api';
import { BENCH_ADMIN_TOKEN, expectStatus, JsonClient } from './http-client';
import { measure } from './measure';
import { GRACE_MS, withTimeout } from './peers/common';
import { closedLoop } from './peers/load';
import type { ScenarioResult } from './results';
import { guarded, type ScenarioEnv } from './scenario';
import { summarize } from './stats';
import { produceBody } from './tablemq-produce';

export const PULL_MAX = 500;
/** Long-poll of a consumer whose queue is already drained while the others finish. */
const IDLE_WAIT_MS = 100;
/** Bound on producing the backlog; far above what it takes (seconds). */
const BACKLOG_TIME_LIMIT_MS = 120_000;
const BACKLOG_PRODUCERS = 4;

export interface Backlog {
  topic: TopicInfo;
  messages: number;
  groups: string[];
}

/** Creates the topic and groups, then produces exactly `messages` messages in batches of 100. */
export async function prepareBacklog(env: ScenarioEnv, api: TablemqApi, name: string, groups: string[]): Promise<Backlog> {
  const broker = env.broker;
  if (broker === undefined) throw new Error('broker not running');
  const topic = await api.createTopic(name, env.opts.queues);
  for (const group of groups) await api.createGroup(group, name, 'earliest');
  const client = new JsonClient(broker.port, BACKLOG_PRODUCERS);
  const body = produceBody(env.opts.messageBytes, 100);
  try {
    const t = await closedLoop(
      {
        producers: BACKLOG_PRODUCERS,
        msgsPerCall: 100,
        durationMs: BACKLOG_TIME_LIMIT_MS,
        maxMessages: env.opts.backlog,
        call: async () => expectStatus(await client.post(producePath(name), body), 201, 'backlog produce'),
      },
      'backlog produce',
    );
    if (t.messages !== env.opts.backlog) throw new Error(`backlog: produced ${t.messages} of ${env.opts.backlog} messages`);
    return { topic, messages: t.messages, groups };
  } finally {
    client.close();
  }
}

/** Bound on passes over the backlog, on top of the time bound. */
const MAX_PASSES = 1000;

/**
 * A fetch that records how long each pull took, answer body included (the client reads it as text),
 * so the report has a per-pull latency as before.
 */
function pullTimer(rounds: number[]): typeof fetch {
  return async (input, init) => {
    const t0 = performance.now();
    const res = await fetch(input, init);
    if (!String(input).endsWith('/pull')) return res;
    const text = await res.text();
    rounds.push(performance.now() - t0);
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * Drains the backlog with `consumers` members of `group`, then rewinds the group and drains it again,
 * until the scenario's time is used up: the backlog must fit the buffer pool, so one pass can be
 * shorter than the scenario. Each pass starts its consumers (registering is timed, as a client pays
 * it) and stops them once the last message was handled (their final commit and leave are not).
 */
export function runDrain(env: ScenarioEnv, api: TablemqApi, backlog: Backlog, group: string, consumers: number): Promise<ScenarioResult> {
  const id = `consume.x${consumers}`;
  const label = `tablemq client Consumer, pull(${PULL_MAX}), ${consumers} consumer${consumers > 1 ? 's' : ''}`;
  return guarded({ id, label, group: 'tablemq', unit: 'msgs/s' }, async () => {
    const broker = env.broker;
    if (broker === undefined) throw new Error('broker not running');
    const url = `http://127.0.0.1:${broker.port}`;
    const durationMs = env.opts.durationMs;

    /** One pass over the backlog, bounded by `budgetMs`; returns messages handled (once each) and time spent. */
    const pass = async (budgetMs: number, rounds: number[]): Promise<{ consumed: number; redelivered: number; ms: number }> => {
      // Queue ids run from 1 without gaps on the fresh backlog topic and a queue is handled in id
      // order, so the highest id handled per queue counts distinct messages; redeliveries (a queue
      // that moved while the consumers joined) are counted apart.
      const highest = new Map<number, number>();
      let consumed = 0;
      let handled = 0;
      let lastAt = 0;
      let allIn: () => void = () => undefined;
      const drained = new Promise<void>((resolve) => (allIn = resolve));
      const errors: Error[] = [];
      const fetchTimed = pullTimer(rounds);
      const members = Array.from(
        { length: consumers },
        (_, i) =>
          new Consumer({
            brokers: [url],
            token: BENCH_ADMIN_TOKEN,
            group,
            name: `${group}-${i}`,
            maxMessages: PULL_MAX,
            waitMs: IDLE_WAIT_MS,
            fetch: fetchTimed,
            onError: (e) => errors.push(e),
            batchHandler: (messages) => {
              const last = messages[messages.length - 1]!;
              const before = highest.get(last.queueId) ?? 0;
              if (last.id > before) {
                consumed += last.id - before;
                highest.set(last.queueId, last.id);
              }
              handled += messages.length;
              lastAt = performance.now();
              if (consumed >= backlog.messages) allIn();
            },
          }),
      );
      const start = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        for (const c of members) await c.start();
        await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, budgetMs - (performance.now() - start)))))]);
      } finally {
        clearTimeout(timer);
        await withTimeout(Promise.all(members.map((c) => c.stop())), GRACE_MS, `${label}: stopping`);
      }
      const unexpected = errors.filter((e) => !['REBALANCED', 'CONSUMER_EXPIRED'].includes((e as { code?: string }).code ?? ''));
      if (unexpected.length > 0) throw new Error(`${label}: ${unexpected[0]!.message}`);
      // A drained pass ends at its last message; consumers idling in a long-poll after it do not count.
      return { consumed, redelivered: handled - consumed, ms: (consumed >= backlog.messages ? lastAt : performance.now()) - start };
    };

    const m = await measure(env.measureEnv, id, broker, async () => {
      const rounds: number[] = [];
      let consumed = 0;
      let redelivered = 0;
      let activeMs = 0;
      let passes = 0;
      while (passes < MAX_PASSES && activeMs < durationMs) {
        const p = await pass(durationMs - activeMs, rounds);
        passes++;
        consumed += p.consumed;
        redelivered += p.redelivered;
        activeMs += p.ms;
        if (p.consumed < backlog.messages || activeMs >= durationMs) break;
        await api.rewind(group, backlog.topic.name);
      }
      return { consumed, redelivered, passes, activeMs, rounds: summarize(rounds) };
    });
    const v = m.value;
    const notes = [`${v.consumed} messages in ${v.passes} pass(es) over the ${backlog.messages}-message backlog, ${(v.activeMs / 1000).toFixed(2)} s draining`];
    if (v.redelivered > 0) notes.push(`${v.redelivered} messages handled again after a queue moved while the consumers joined`);
    return {
      rate: v.consumed / (Math.max(1, v.activeMs) / 1000),
      latency: { p50Ms: v.rounds.p50Ms, p99Ms: v.rounds.p99Ms, maxMs: v.rounds.maxMs, per: `pull(${PULL_MAX})` },
      count: v.consumed,
      cpu: m.cpu,
      db: m.db,
      loop: m.loop,
      profile: m.profile,
      notes,
    };
  });
}
