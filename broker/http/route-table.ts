import type { Express, Request, Response } from 'express';
import type { ServerResponse } from 'node:http';
import { queryValidator } from './query';
import { validator } from './validation';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One HTTP route: what express registers and what /api/v1/openapi.json documents come from this
 * one entry, and the request body and query are validated with the very schemas the document
 * shows. To add a route, add an entry to its module's table; the OpenAPI test fails for a route
 * registered any other way.
 */
export interface ApiRoute {
  method: HttpMethod;
  /** Full express pattern, e.g. /api/v1/admin/topics/:topic (parameters: see PATH_PARAMS in openapi.ts). */
  path: string;
  summary: string;
  /** Groups the reference page (topics, groups, consumers, ...). */
  tag: string;
  description?: string;
  /** JSON schema of the request body; the handler receives the validated body. */
  body?: object;
  /** The body may be left out; it is then validated as `{}`. */
  bodyOptional?: boolean;
  /** JSON schema of the query string (values coerced from text); the handler receives the validated query. */
  query?: object;
  /** Status of a successful answer (200 when absent). */
  status?: number;
  /** Examples for the document: a request body and a successful answer. */
  example?: { request?: unknown; response?: unknown };
  /** Answers that are not JSON (text/plain, text/html). */
  produces?: string;
  /** Routes open without a token (health, metrics, the API description itself). */
  public?: boolean;
  /** Absent for the routes served on plain node:http (hot-routes.ts), which only borrow the entry for docs and metrics. */
  handler?: RouteHandler;
}

export interface RouteInput {
  body: unknown;
  query: unknown;
}

export type RouteHandler = (req: Request, res: Response, input: RouteInput) => Promise<void> | void;

/** A table entry whose handler sees its body and query typed as the schemas promise. */
export function route<B = undefined, Q = undefined>(
  entry: Omit<ApiRoute, 'handler'> & { handler: (req: Request, res: Response, input: { body: B; query: Q }) => Promise<void> | void },
): ApiRoute {
  return entry as ApiRoute;
}

const ROUTE_NAME = Symbol('tablemq.route');

/** Labels a response with its route pattern (the latency histogram's `route`). */
export function nameRoute(res: ServerResponse, pattern: string): void {
  (res as ServerResponse & { [ROUTE_NAME]?: string })[ROUTE_NAME] = pattern;
}

/** The route pattern a response was labelled with; "unmatched" for 404s and early failures. */
export function routeName(res: ServerResponse): string {
  return (res as ServerResponse & { [ROUTE_NAME]?: string })[ROUTE_NAME] ?? 'unmatched';
}

/** Registers every entry that has a handler on the app. */
export function mountRoutes(app: Express, routes: readonly ApiRoute[]): void {
  for (const r of routes) {
    const handler = r.handler;
    if (!handler) continue;
    const checkBody = r.body ? validator<unknown>(r.body) : undefined;
    const checkQuery = r.query ? queryValidator<unknown>(r.query) : undefined;
    app[r.method](r.path, async (req: Request, res: Response) => {
      nameRoute(res, r.path);
      const body: unknown = r.bodyOptional ? (req.body ?? {}) : req.body;
      const input = { body: checkBody ? checkBody(body) : body, query: checkQuery ? checkQuery(req.query) : req.query };
      await handler(req, res, input);
    });
  }
}
