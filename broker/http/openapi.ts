import { ERROR_CODES } from '../../shared/errors';
import type { ApiRoute } from './route-table';
import { NAME_PATTERN } from './validation';

/**
 * Builds the OpenAPI 3.1 document of the API from the route table: the request bodies and query
 * strings are the ajv schemas the broker validates with, so the document cannot drift from what
 * the broker accepts.
 */

const idSchema = { type: 'integer', minimum: 1 } as const;

/** Every path parameter a route may use, with its schema; a route using another one fails the OpenAPI test. */
export const PATH_PARAMS: Readonly<Record<string, { schema: object; description: string }>> = {
  topic: { schema: { type: 'string', pattern: NAME_PATTERN }, description: 'Topic name' },
  group: { schema: { type: 'string', pattern: NAME_PATTERN }, description: 'Consumer group name' },
  node: { schema: { type: 'string', pattern: NAME_PATTERN }, description: 'Message DB node name' },
  app: { schema: { type: 'string', pattern: NAME_PATTERN }, description: 'App (API client) name' },
  tokenId: { schema: idSchema, description: "Id of one of the app's tokens" },
  queueId: { schema: idSchema, description: 'Queue id' },
  id: { schema: idSchema, description: 'Consumer id (under /consumers) or message id (under /messages)' },
};

const TAGS: Readonly<Record<string, string>> = {
  produce: 'Write messages to a topic',
  consumers: 'The consumer protocol: register, pull, commit, heartbeat, fail, leave',
  messages: 'Read stored messages back',
  topics: 'Create, list and change topics and their queues (admin)',
  groups: 'Consumer groups, subscriptions, lag and offsets (admin)',
  'dead messages': 'Messages that ran out of retries (admin)',
  'db nodes': 'The MySQL/MariaDB servers that hold queue tables (admin)',
  scheduled: 'Delayed, retried and postponed messages (admin)',
  jobs: 'portal-jobs runs and leases (admin)',
  broker: 'This broker process (admin)',
  apps: 'Apps, their bearer tokens and grants (admin)',
  operations: 'Health, metrics and this description',
};

const errorSchema = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES], description: 'Stable, machine-readable; the HTTP status follows from it' },
        message: { type: 'string', description: 'For humans' },
        details: { description: 'What was wrong, when known: the schema errors, the name that was not found, a limit' },
      },
    },
  },
} as const;

const errorExample = { error: { code: 'VALIDATION_FAILED', message: 'request body does not match the schema', details: [{ path: '/queues', message: 'must be integer', params: { type: 'integer' } }] } };

/** `/api/v1/topics/:topic` → `/api/v1/topics/{topic}` */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function pathParameters(path: string) {
  return [...path.matchAll(/:(\w+)/g)].map(([, name]) => {
    const param = PATH_PARAMS[name!];
    if (!param) throw new Error(`route ${path}: path parameter :${name} has no entry in PATH_PARAMS (broker/http/openapi.ts)`);
    return { name, in: 'path', required: true, description: param.description, schema: param.schema };
  });
}

function queryParameters(schema: object | undefined) {
  const s = schema as { properties?: Record<string, { description?: string }>; required?: string[] } | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, prop]) => ({
    name,
    in: 'query',
    required: s?.required?.includes(name) ?? false,
    ...(prop.description ? { description: prop.description } : {}),
    schema: prop,
  }));
}

function operationId(r: ApiRoute): string {
  const words = r.path
    .replace(/^\/api\/v1\//, '')
    .split(/[/:-]+/)
    .filter(Boolean);
  return [r.method, ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

function operation(r: ApiRoute) {
  const status = String(r.status ?? 200);
  const success = r.produces
    ? { description: 'OK', content: { [r.produces]: { schema: { type: 'string' } } } }
    : { description: 'OK', content: { 'application/json': { schema: {}, ...(r.example?.response === undefined ? {} : { example: r.example.response }) } } };
  return {
    operationId: operationId(r),
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    tags: [r.tag],
    ...(r.public ? { security: [] } : {}),
    parameters: [...pathParameters(r.path), ...queryParameters(r.query)],
    ...(r.body
      ? {
          requestBody: {
            required: !r.bodyOptional,
            content: { 'application/json': { schema: r.body, ...(r.example?.request === undefined ? {} : { example: r.example.request }) } },
          },
        }
      : {}),
    responses: {
      [status]: success,
      '4XX': { $ref: '#/components/responses/Error' },
      '5XX': { $ref: '#/components/responses/Unavailable' },
    },
  };
}

export function openApiDocument(routes: readonly ApiRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = openApiPath(r.path);
    const item = (paths[path] ??= {});
    if (item[r.method]) throw new Error(`two routes for ${r.method.toUpperCase()} ${r.path}`);
    item[r.method] = operation(r);
  }
  const usedTags = [...new Set(routes.map((r) => r.tag))];
  return {
    openapi: '3.1.0',
    info: {
      title: 'tablemq',
      version,
      description:
        'A message broker that keeps every queue as a MySQL table. Every request and answer body is JSON; ' +
        'an error is `{"error": {"code", "message", "details"}}` with a 4xx status for bad input and 503 with `Retry-After` ' +
        'when a database is down or the broker is overloaded.',
    },
    tags: usedTags.map((name) => ({ name, ...(TAGS[name] ? { description: TAGS[name] } : {}) })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token: `Authorization: Bearer <token>`' },
      },
      schemas: { Error: errorSchema },
      responses: {
        Error: { description: 'Bad input, not found, conflict or too large', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: errorExample } } },
        Unavailable: {
          description: 'A database is down or stalled, or the broker is overloaded or stopping: retry after `Retry-After` seconds',
          headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait before retrying' } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}
