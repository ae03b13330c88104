import type { RequestHandler, Response } from 'express';
import type { BrokerContext } from '../context';
import type { ApiRoute } from '../http/route-table';
import type { Principal } from './principal';

/**
 * Express middleware for the routes outside the hot path (hot-routes.ts checks the same rules
 * itself). `authenticate` runs for every /api route not marked public and leaves the Principal in res.locals;
 * the others authorise one route class each.
 */
export function authenticate(ctx: BrokerContext, routes: readonly ApiRoute[]): RequestHandler {
  // Open routes under /api (the API description) are named by their exact path.
  const open = new Set(routes.filter((r) => r.public).map((r) => `${r.method.toUpperCase()} ${r.path}`));
  return async (req, res, next) => {
    if (!req.path.startsWith('/api/') || open.has(`${req.method} ${req.path}`)) return next();
    res.locals.principal = await ctx.auth.authenticate(req.headers.authorization);
    next();
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  // Only reachable if a route were mounted before `authenticate`: fail closed.
  if (!principal) throw new Error('route reached without authentication');
  return principal;
}

export const requireAdmin: RequestHandler = (_req, res, next) => {
  principalOf(res).requireAdmin();
  next();
};

/** For /groups/:group/...: the consumer protocol. */
export const requireConsume: RequestHandler = (req, res, next) => {
  principalOf(res).requireConsume(String(req.params.group));
  next();
};

/** For /topics/:topic/...: produce and reading a message back. */
export function requireProduce(ctx: BrokerContext): RequestHandler {
  return async (req, res, next) => {
    await checkProduce(ctx, principalOf(res), String(req.params.topic));
    next();
  };
}

/** Produce rights on a topic; only a non-admin needs the topic's kind (cached in the catalog). */
export async function checkProduce(ctx: BrokerContext, principal: Principal, topic: string): Promise<void> {
  if (!principal.isAdmin) principal.requireProduce(topic, (await ctx.catalog.topic(topic))?.topic.kind);
}
