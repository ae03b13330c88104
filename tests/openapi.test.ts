import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Express } from 'express';
import { apiRoutes, buildApp } from '../broker/server';
import { HOT_ROUTES } from '../broker/hot-routes';
import { openApiPath } from '../broker/http/openapi';
import { validator } from '../broker/http/validation';
import { startTestBroker, type TestBroker } from './helpers/broker';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('openapi');
});
after(async () => {
  await t?.close();
});

interface Operation {
  operationId: string;
  security?: unknown[];
  parameters: { name: string; in: string }[];
  requestBody?: { content: { 'application/json': { schema: object; example?: unknown } } };
  responses: Record<string, unknown>;
}
type Spec = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme: string }> } };

async function spec(): Promise<Spec> {
  const res = await t.api.get('/api/v1/openapi.json');
  assert.equal(res.status, 200);
  return res.body as Spec;
}

const operations = (s: Spec) => Object.entries(s.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, method, op })));

/** The routes express has registered, as "METHOD /path/{param}". */
function expressRoutes(app: Express): string[] {
  // express 5 keeps the router on app.router; its layers are not typed publicly.
  const stack = (app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack;
  return stack.flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${openApiPath(layer.route!.path)}`) : []));
}

describe('OpenAPI document', () => {
  test('is a valid OpenAPI 3.1 document by a maintained validator', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(await spec());
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, '3.1');
  });

  test('documents exactly the routes the broker serves: every express route, and the hot routes', async () => {
    const documented = operations(await spec()).map((o) => o.key).sort();
    const app = buildApp(t.broker.ctx, apiRoutes(t.broker.ctx, async () => true));
    const hot = Object.values(HOT_ROUTES).map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`);
    const served = [...expressRoutes(app), ...hot].sort();
    assert.deepEqual(documented, served);
    assert.ok(served.length > 30, `${served.length} routes`);
  });

  test('every documented operation is answered by its route, not by the 404 of an unknown path', async () => {
    const s = await spec();
    for (const { path, method, key } of operations(s)) {
      // Names that exist nowhere: each call fails on its own terms (404 of a group, 400 of a body) and changes nothing.
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (['queueId', 'id'].includes(name) ? '987654' : 'no-such-thing'));
      const res = await t.api.call(method.toUpperCase(), url, method === 'get' || method === 'delete' ? undefined : { invalid: true });
      const noRoute = res.status === 404 && typeof res.body === 'object' && res.body?.error?.code === 'NOT_FOUND';
      assert.ok(!noRoute, `${key} is documented but not served`);
    }
  });

  test('request bodies are the validation schemas: each example passes them, and each route refuses what they refuse', async () => {
    const s = await spec();
    let withBodies = 0;
    for (const { key, op } of operations(s)) {
      const content = op.requestBody?.content['application/json'];
      if (!content) continue;
      withBodies += 1;
      if (content.example !== undefined) assert.doesNotThrow(() => validator(content.schema)(content.example), `${key} example`);
    }
    assert.ok(withBodies >= 15, `${withBodies} operations with bodies`);
    const refused = await t.api.post('/api/v1/admin/topics', { name: 'x', queues: 0 });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.details[0].path, '/queues');
  });

  test('carries the bearer scheme, the error body on every operation, and leaves health and metrics open', async () => {
    const s = await spec();
    assert.deepEqual(s.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: 'An API token: `Authorization: Bearer <token>`' });
    for (const { key, op } of operations(s)) assert.deepEqual(op.responses['4XX'], { $ref: '#/components/responses/Error' }, key);
    for (const open of ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json']) assert.deepEqual(s.paths[open]!.get!.security, [], open);
    assert.equal(s.paths['/api/v1/admin/topics']!.post!.security, undefined, 'admin calls need the token');
    const ids = operations(s).map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  });

  test('the reference page and its swagger-ui files are served from the broker itself', async () => {
    const page = await fetch(`${t.api.baseUrl}/api/v1/docs`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.ok(!/https?:\/\//.test(html), 'no external (CDN) URL');
    for (const asset of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) {
      const res = await fetch(t.api.baseUrl + asset);
      assert.equal(res.status, 200, asset);
      assert.ok((await res.text()).length > 0, asset);
    }
    const init = await (await fetch(`${t.api.baseUrl}/api/v1/docs/init.js`)).text();
    assert.match(init, /url: '\/api\/v1\/openapi\.json'/);
    const bundle = await fetch(`${t.api.baseUrl}/api/v1/docs/assets/swagger-ui-bundle.js`);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    assert.match(await bundle.text(), /SwaggerUIBundle/);
  });
});
