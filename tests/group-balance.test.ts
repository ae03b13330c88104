import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createGroup, createTopic, joinGroup, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('group_balance');
});
after(async () => {
  await t?.close();
});

test('60 consumers of a group over 30 topics of 4 queues own exactly 2 of those queues each', async () => {
  const topics = Array.from({ length: 30 }, () => uniqueName('spread'));
  // Tables for the 30 topics and the retry and dead topics of the subscriptions, made ahead in one
  // call, so that the topics created at once don't run short of spares.
  assert.equal((await t.api.post('/api/v1/admin/db-nodes/default/queues', { count: 30 * 4 + 30 * 2 })).status, 201);
  const created = await Promise.all(topics.map((name) => createTopic(t.api, name, 4)));
  const topicQueues = new Set(created.flatMap((c) => c.queues.map((q) => q.id)));
  const group = uniqueName('g');
  await createGroup(t.api, group, topics);

  // All join at once: registrations race, each rebalancing the group from the state the last one left.
  const consumers = await Promise.all(Array.from({ length: 60 }, (_, i) => joinGroup(t.api, group, `c${i}`)));
  const owned = await Promise.all(consumers.map(async (c) => (await c.queues()).filter((q) => topicQueues.has(q))));

  assert.deepEqual(owned.map((qs) => qs.length), Array.from({ length: 60 }, () => 2));
  assert.equal(new Set(owned.flat()).size, 120, 'every topic queue has exactly one owner');
});
