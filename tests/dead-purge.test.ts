import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopic, joinGroup, produce, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('purge', { schedulerPollMs: 20 });
});
after(async () => {
  await t?.close();
});

/** A group whose two messages of `topic` are in its dead topic; returns the dead messages. */
async function twoDeadMessages(topic: string, group: string) {
  await createTopic(t.api, topic, 1);
  await t.api.post('/api/v1/admin/groups', { name: group });
  const sub = await t.api.post(`/api/v1/admin/groups/${group}/subscriptions`, { topic, start: 'earliest', maxRetries: 0 });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  const c = await joinGroup(t.api, group, 'c');
  await produce(t.api, topic, [{ body: 'a' }, { body: 'b' }]);
  // Pulled and failed, not committed: a consumer fails messages before it commits past them.
  const got = (await c.pulled({ max: 10, waitMs: 2_000 })).messages;
  assert.equal(got.length, 2);
  const failed = await t.api.post(`/api/v1/groups/${group}/consumers/${c.consumerId}/fail`, { messages: got.map((m) => ({ queueId: m.queueId, id: m.id })) });
  assert.equal(failed.status, 200, JSON.stringify(failed.body));
  let dead: { queueId: number; id: number }[] = [];
  for (const deadline = Date.now() + 10_000; dead.length < 2 && Date.now() < deadline; ) {
    dead = (await t.api.get(`/api/v1/admin/groups/${group}/dead-messages?topic=${topic}`)).body.messages;
    if (dead.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(dead.length, 2, 'both messages reached the dead topic');
  return dead;
}

describe('purging dead messages', () => {
  test('a purge whose audit row cannot be written deletes nothing; once it can, row and audit go together', async () => {
    const topic = uniqueName('purge');
    const group = uniqueName('g');
    const dead = await twoDeadMessages(topic, group);
    const purge = () => t.api.post(`/api/v1/admin/groups/${group}/dead-messages/purge`, { all: true });
    const audits = () => t.sql.count('audit_log', "action = 'dead.purge' AND target = ?", [`group:${group}`]);

    // The metadata DB refuses the audit row (as a full disk or a lost connection would).
    await t.sql.rows("CREATE TRIGGER refuse_purge_audit BEFORE INSERT ON audit_log FOR EACH ROW BEGIN IF NEW.action = 'dead.purge' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit refused'; END IF; END");
    try {
      const refused = await purge();
      assert.ok(refused.status >= 500, `the purge failed: ${refused.status} ${JSON.stringify(refused.body)}`);
    } finally {
      await t.sql.rows('DROP TRIGGER refuse_purge_audit');
    }
    const still = (await t.api.get(`/api/v1/admin/groups/${group}/dead-messages?topic=${topic}`)).body.messages;
    assert.deepEqual(still.map((m: { id: number }) => m.id), dead.map((m) => m.id), 'no dead message was deleted without its audit row');
    assert.equal(await audits(), 0);

    const done = await purge();
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.purged, 2);
    assert.equal((await t.api.get(`/api/v1/admin/groups/${group}/dead-messages?topic=${topic}`)).body.messages.length, 0);
    assert.equal(await audits(), 1);
  });
});
