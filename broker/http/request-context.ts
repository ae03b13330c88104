import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { Histogram } from 'prom-client';
import type { Logger } from '../../shared/logger';
import { routeName } from './route-table';

/** The latency histogram requests are observed in (labels: method, route pattern, status). */
export type RequestLatency = Histogram<'method' | 'route' | 'status'>;

/** A per-process random prefix plus a counter: unique ids without a UUID per request. */
const prefix = randomBytes(4).toString('hex');
let counter = 0;

/**
 * Gives each request an id (or keeps the caller's X-Request-Id), echoed in X-Request-Id. Child
 * loggers are made only when something is logged (`requestLogger`), which keeps them off the
 * hot path of produce and pull.
 */
export function requestContext(logger: Logger, latency: RequestLatency): RequestHandler {
  return (req, res, next) => {
    res.locals.requestId = beginRequest(logger, req, res, latency);
    next();
  };
}

/**
 * Names the request (X-Request-Id), observes its latency under its route pattern when it
 * finishes and, at log level http, logs it.
 */
export function beginRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, latency: RequestLatency): string {
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : `${prefix}-${(++counter).toString(36)}`;
  res.setHeader('X-Request-Id', requestId);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    latency.observe({ method: req.method ?? '', route: routeName(res), status: res.statusCode }, seconds);
    // Read at the end, not the start: the level may change at run time (PUT /api/v1/admin/log-level).
    if (logger.isLevelEnabled('http')) {
      logger.http('request', { requestId, method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 });
    }
  });
  return requestId;
}

/** The logger for one request, carrying its id. */
export function requestLogger(logger: Logger, res: Response): Logger {
  const requestId = res.locals.requestId as string | undefined;
  return requestId ? logger.child({ requestId }) : logger;
}
