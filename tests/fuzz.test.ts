import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { apiRoutes } from '../broker/server';
import { createGroup, createTopic, joinGroup, startTestBroker, type TestBroker } from './helpers/broker';

/**
 * Property-based fuzzing of every route: paths with hostile segments, random query strings and
 * bodies that are valid, nearly valid or garbage. Bounded and seeded, so a failure replays.
 * Properties: no answer is a 5xx; every error answer has the {error: {code, message, details}}
 * shape; a request answered with an error changes no row of the metadata DB or of a queue table;
 * the broker still serves afterwards.
 */

const SEED = 20261201;
const RUNS = 400;

let t: TestBroker;
let fixture: { topic: string; group: string; consumerId: number; queueId: number; messageId: number };

before(async () => {
  // A short long-poll cap keeps fuzzed pulls from waiting; a small request limit keeps bodies cheap;
  // the scheduler stays idle so that delayed produces don't move rows while a request is checked.
  t = await startTestBroker('fuzz', { schedulerPollMs: 60_000, pullMaxWaitMs: 20, maxRequestBytes: 64 * 1024, maxMessagesPerRequest: 20 });
  const topic = 'fz-topic';
  const created = await createTopic(t.api, topic, 2);
  const group = 'fz-group';
  await createGroup(t.api, group, [topic]);
  const consumer = await joinGroup(t.api, group, 'fz-consumer');
  const placed = await t.api.post(`/api/v1/topics/${topic}/messages`, { messages: [{ body: { n: 1 } }] });
  assert.equal(placed.status, 201);
  fixture = { topic, group, consumerId: consumer.consumerId, queueId: created.queues[0]!.id, messageId: placed.body.results[0].id };
});
after(async () => {
  await t?.close();
});

/**
 * Every route of the API, as the broker declares them (the same table express mounts and
 * /api/v1/openapi.json documents), so a route added later is fuzzed too. Path parameters are
 * express's `:name`; a consumer's `:id` is its consumer id, elsewhere `:id` is a message id.
 */
function routeList(): { method: string; path: string }[] {
  return apiRoutes(t.broker.ctx, async () => true).map((r) => ({ method: r.method.toUpperCase(), path: r.path.replace('/consumers/:id', '/consumers/:consumerId') }));
}

function validParam(name: string): string {
  switch (name) {
    case 'topic':
      return fixture.topic;
    case 'group':
      return fixture.group;
    case 'node':
      return 'default';
    case 'queueId':
      return String(fixture.queueId);
    case 'id':
      return String(fixture.messageId);
    case 'consumerId':
      return String(fixture.consumerId);
    default:
      return '1'; // a parameter of a route added later: a plausible id
  }
}

/** A path segment: the fixture's value (null here, filled in per request), a number, or hostile text (raw, encoded, or with broken escapes). */
const segment = () =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(null) },
    fc.constantFrom('0', '-1', '1', '99999999999999999999', 'ORDERS', 'a.b', '..', 'x'.repeat(130), '%00', '%ZZ', '%E0%A4%A', '%', 'default'),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
    fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '.', '_', '%', '2', 'F', 'E', '~', '!', "'", '(', '*'), maxLength: 10 }),
  );

const queryValue = fc.oneof(fc.constantFrom('1', '0', '-5', 'abc', '%ZZ', '', '1:1', 'x:y', '99999999999999999999', 'true', 'fz-topic'), fc.string({ maxLength: 8 }).map(encodeURIComponent));
const query = fc
  .array(fc.tuple(fc.constantFrom('limit', 'runs', 'after', 'queueId', 'from', 'to', 'x', 'tag', 'key', 'max', '%ZZ', ''), queryValue), { maxLength: 3 })
  .map((pairs) => (pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&')));

/** Field names the request schemas know, so random bodies often get past the first checks. */
const KEYS = ['name', 'queues', 'dbNode', 'topic', 'start', 'tags', 'max', 'waitMs', 'offsets', 'positions', 'generation', 'count', 'host', 'port', 'database', 'user', 'password', 'readOnly', 'queueId', 'offset', 'id', 'ids', 'messages', 'retentionHours', 'maxMessageBytes', 'readable', 'writable', 'maxRetries', 'backoffMs', 'reason', 'to', 'owner', 'body', 'key', 'tag', 'delayMs', 'deliverAt', 'headers', 'traceId'];
const scalar = fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom(0, 1, 2 ** 53, -1e9, 1.5, 'fz-topic', 'fz-group', 'default', 'earliest', 'latest', 'ORDERS', '', '2026-01-01T00:00:00Z'), fc.boolean(), fc.constant(null), fc.string({ maxLength: 10 }));
const { value: nearlyValid } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalar, tie('object'), fc.array(tie('value'), { maxLength: 3 })),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
}));
const ref = fc.record({ queueId: fc.integer({ min: 0, max: 4 }), id: fc.integer({ min: 0, max: 3 }) });
const topicName = fc.constantFrom('fz-topic', 'fz-new', 'FZ-TOPIC', 'nope');
const groupName = fc.constantFrom('fz-group', 'fz-new', 'FZ-GROUP');
/**
 * Bodies that match (or nearly match) one route's schema, so requests also reach the work behind
 * validation; keyed by the route's last path segment.
 */
const SCHEMA_LIKE: Record<string, fc.Arbitrary<unknown>> = {
  messages: fc.record({
    messages: fc.array(
      fc.record(
        { body: fc.jsonValue({ maxDepth: 2 }), key: fc.constantFrom('k1', 'k2', ''), tag: fc.constantFrom('a', 'b'), delayMs: fc.integer({ min: -1, max: 50 }), headers: fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }) },
        { requiredKeys: ['body'] },
      ),
      { minLength: 0, maxLength: 3 },
    ),
  }),
  topics: fc.record({ name: topicName, queues: fc.integer({ min: 0, max: 2 }), retentionHours: fc.integer({ min: 0, max: 2 }), dbNode: fc.constantFrom('default', 'nope') }, { requiredKeys: ['name', 'queues'] }),
  groups: fc.record({ name: groupName, mode: fc.constantFrom('cluster', 'broadcast', 'x'), maxRetries: fc.integer({ min: -1, max: 2 }) }, { requiredKeys: ['name'] }),
  subscriptions: fc.record({ topic: topicName, start: fc.constantFrom('earliest', 'latest', 'middle'), tags: fc.array(fc.constantFrom('a', 'b', ''), { maxLength: 2 }), backoffMs: fc.array(fc.integer({ min: -1, max: 10 }), { maxLength: 2 }) }, { requiredKeys: ['topic'] }),
  consumers: fc.record({ name: fc.constantFrom('c1', 'C1', 'fz-consumer', 'bad name'), host: fc.string({ maxLength: 5 }) }, { requiredKeys: ['name'] }),
  pull: fc.record({ max: fc.integer({ min: 0, max: 3 }), waitMs: fc.integer({ min: 0, max: 30 }), positions: fc.array(fc.record({ queueId: fc.integer({ min: 0, max: 4 }), offset: fc.integer({ min: -1, max: 3 }) }), { maxLength: 2 }) }),
  commit: fc.record({ offsets: fc.array(fc.record({ queueId: fc.integer({ min: 0, max: 4 }), offset: fc.integer({ min: -1, max: 3 }) }), { maxLength: 2 }), generation: fc.integer({ min: 0, max: 3 }) }, { requiredKeys: ['offsets'] }),
  fail: fc.record({ messages: fc.array(ref, { maxLength: 2 }), reason: fc.string({ maxLength: 5 }) }),
  resend: fc.record({ topic: topicName, messages: fc.array(ref, { maxLength: 2 }), all: fc.boolean() }),
  purge: fc.record({ topic: topicName, messages: fc.array(ref, { maxLength: 2 }), all: fc.boolean() }),
  reset: fc.record({ topic: topicName, to: fc.oneof(fc.constantFrom('earliest', 'latest', 'x'), fc.record({ id: fc.integer({ min: -1, max: 3 }), queueId: fc.integer({ min: 0, max: 3 }) }), fc.record({ timestamp: fc.constantFrom('2026-01-01T00:00:00Z', 'yesterday') })) }),
  expand: fc.record({ queues: fc.integer({ min: 0, max: 1 }), dbNode: fc.constantFrom('default', 'nope') }, { requiredKeys: ['queues'] }),
  queues: fc.record({ count: fc.integer({ min: 0, max: 1 }) }),
  ':queueId': fc.record({ readable: fc.boolean(), writable: fc.boolean() }),
  'db-nodes': fc.record({ name: fc.constantFrom('n1', 'default'), host: fc.constantFrom('127.0.0.1', ''), port: fc.constantFrom(1, 0), database: fc.constantFrom('x', 'bad name'), user: fc.constantFrom('root', '') }),
};

const anyBody = fc.oneof(
  fc.constant(undefined),
  nearlyValid.map((v) => JSON.stringify(v)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('{', '{"messages":', '[[[[[[', '{"name":"\\ud800"}', 'null', '"x"', '{"__proto__":{"x":1}}', '['.repeat(3000) + ']'.repeat(3000)),
);
const contentType = fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/json; charset=latin1');

function requests(routes: readonly { method: string; path: string }[]) {
  return fc.constantFrom(...routes).chain((route) => {
    const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const own = SCHEMA_LIKE[route.path.split('/').pop()!];
    return fc.record({
      route: fc.constant(route),
      body: own ? fc.oneof({ weight: 3, arbitrary: own.map((v) => JSON.stringify(v)) }, anyBody) : anyBody,
      params: fc.tuple(...names.map(() => segment())).map((values) => new Map(names.map((name, i) => [name, values[i] ?? null]))),
      query,
      contentType,
    });
  });
}

/** Row counts of every table of the metadata DB (queue tables included): what a failed request must leave alone. */
async function snapshot(): Promise<Record<string, number>> {
  const rows = await t.sql.rows<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name NOT IN ('consumer', 'knex_migrations', 'knex_migrations_lock') ORDER BY 1",
  );
  // One round trip for all the counts: this runs twice per fuzzed request.
  const [counts] = await t.sql.rows<Record<string, number>>(`SELECT ${rows.map(() => `(SELECT COUNT(*) FROM ??) AS ??`).join(', ')}`, rows.flatMap(({ name }) => [name, name]));
  return Object.fromEntries(Object.entries(counts!).map(([name, n]) => [name, Number(n)]));
}

describe('fuzzing every route', () => {
  test(`${RUNS} seeded random requests: no 5xx, errors well-formed, failed requests write nothing`, async () => {
    const routes = routeList();
    assert.ok(routes.length >= 30, `${routes.length} routes`);
    const outcome = await fc.check(
      fc.asyncProperty(requests(routes), async ({ route, params, query: q, body: text, contentType: type }) => {
        const method = route.method;
        const path = route.path.replace(/:(\w+)/g, (_, name: string) => params.get(name) ?? validParam(name)) + q;
        const before = await snapshot();
        const res = await t.api.call(method, path, method === 'GET' ? undefined : text, { 'content-type': type });
        const what = `${method} ${path} ${text?.slice(0, 200) ?? ''} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
        assert.ok(res.status < 500, what);
        if (res.status >= 400) {
          assert.equal(typeof res.body?.error?.code, 'string', what);
          assert.equal(typeof res.body.error.message, 'string', what);
          assert.ok('details' in res.body.error, what);
          assert.deepEqual(await snapshot(), before, `a failed request changed rows: ${what}`);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The report names the seed and the failing request; the error under it says what went wrong.
    if (outcome.failed) assert.fail(`${fc.defaultReportMessage(outcome)}\n${String(outcome.errorInstance)}`);
    assert.equal((await t.api.get('/healthz')).status, 200);
    assert.equal((await t.api.get('/readyz')).status, 200);
  });
});
