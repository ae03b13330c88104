/**
 * Consume scenarios: a backlog produced beforehand on a multi-queue topic, drained by 1 or by 4
 * consumers of a group, each looping pull (max 500) and commit, one pull ahead of its commit. Two
 * groups read the same backlog, so both drains see identical rows.
 */
import { performance } from 'node:perf_hooks';
import { Consumer, producePath, TablemqApi, type PullAnswer, type TopicInfo } from './api';
import { expectStatus, JsonClient } from './http-client';
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
 * Drains the backlog with `consumers` members of `group`, then rewinds the group and drains it again,
 * until the scenario's time is used up: the backlog must fit the buffer pool, so one pass can be
 * shorter than the scenario. Only draining is timed; the rewinds between passes are not.
 */
export function runDrain(env: ScenarioEnv, api: TablemqApi, backlog: Backlog, group: string, consumers: number): Promise<ScenarioResult> {
  const id = `consume.x${consumers}`;
  const label = `tablemq pull(${PULL_MAX})+commit, ${consumers} consumer${consumers > 1 ? 's' : ''}`;
  return guarded({ id, label, group: 'tablemq', unit: 'msgs/s' }, async () => {
    const broker = env.broker;
    if (broker === undefined) throw new Error('broker not running');
    const ids: number[] = [];
    for (let i = 0; i < consumers; i++) ids.push(await api.register(group, `${group}-${i}`));
    // Two requests per consumer at a time: a pull ahead while the commit is out.
    const client = new JsonClient(broker.port, consumers * 2);
    const members = ids.map((cid) => new Consumer(client, group, cid, PULL_MAX, IDLE_WAIT_MS));
    const durationMs = env.opts.durationMs;

    /** One pass over the backlog, bounded by `budgetMs`; returns messages committed and time spent. */
    const pass = async (budgetMs: number, rounds: number[]): Promise<{ consumed: number; fenced: number; ms: number }> => {
      const start = performance.now();
      const deadline = start + budgetMs;
      let consumed = 0;
      let fenced = 0;
      let lastCommitAt = start;
      // Pipelined, as the API allows and a throughput-minded client would: the next pull (from the
      // positions just pulled) is in flight while this batch is committed. A fenced commit drops
      // the read-ahead and pulls again from the committed offsets.
      const drainOne = async (c: Consumer): Promise<void> => {
        let next: Promise<PullAnswer> | undefined;
        let t0 = performance.now();
        while (consumed < backlog.messages && performance.now() < deadline) {
          const pulled = await (next ?? c.pull());
          next = undefined;
          if (pulled.messages.length === 0) {
            t0 = performance.now();
            continue; // own queues drained: wait for the others (bounded by the deadline)
          }
          const ahead = c.pull(pulled.positions);
          next = ahead;
          if (await c.commit(pulled.positions, pulled.generation)) {
            consumed += pulled.messages.length;
            lastCommitAt = performance.now();
            rounds.push(lastCommitAt - t0);
            t0 = lastCommitAt;
          } else {
            fenced++;
            await ahead.catch(() => undefined);
            next = undefined;
            t0 = performance.now();
          }
        }
        await next?.catch(() => undefined); // a read-ahead still out: its messages were not committed and do not count
      };
      await withTimeout(Promise.all(members.map(drainOne)), budgetMs + GRACE_MS, label);
      // A drained pass ends at its last commit; consumers idling in a long-poll after it do not count.
      return { consumed, fenced, ms: (consumed >= backlog.messages ? lastCommitAt : performance.now()) - start };
    };

    try {
      const m = await measure(env.measureEnv, id, broker, async () => {
        const rounds: number[] = [];
        let consumed = 0;
        let fenced = 0;
        let activeMs = 0;
        let passes = 0;
        while (passes < MAX_PASSES && activeMs < durationMs) {
          const p = await pass(durationMs - activeMs, rounds);
          passes++;
          consumed += p.consumed;
          fenced += p.fenced;
          activeMs += p.ms;
          if (p.consumed < backlog.messages || activeMs >= durationMs) break;
          await api.rewind(group, backlog.topic.name);
        }
        return { consumed, fenced, passes, activeMs, rounds: summarize(rounds) };
      });
      const v = m.value;
      const notes = [`${v.consumed} messages in ${v.passes} pass(es) over the ${backlog.messages}-message backlog, ${(v.activeMs / 1000).toFixed(2)} s draining`];
      if (v.fenced > 0) notes.push(`${v.fenced} commits refused by a rebalance`);
      return {
        rate: v.consumed / (Math.max(1, v.activeMs) / 1000),
        latency: { p50Ms: v.rounds.p50Ms, p99Ms: v.rounds.p99Ms, maxMs: v.rounds.maxMs, per: `pull(${PULL_MAX})+commit round` },
        count: v.consumed,
        cpu: m.cpu,
        db: m.db,
        loop: m.loop,
        profile: m.profile,
        notes,
      };
    } finally {
      client.close();
    }
  });
}
