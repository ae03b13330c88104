import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BrokerError, httpStatus, toError } from '../../shared/errors';
import { asStoreError } from '../../shared/db/mysql-errors';
import type { Logger } from '../../shared/logger';
import { requestLogger } from './request-context';

/** Body-parser errors carry a `type`; map the ones a client can cause to our error codes. */
function fromBodyParser(err: unknown): BrokerError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  const e = err as { type: string; limit?: number; message?: string };
  switch (e.type) {
    case 'entity.too.large':
      return new BrokerError('PAYLOAD_TOO_LARGE', `request body exceeds ${e.limit ?? '?'} bytes`, { limit: e.limit });
    case 'entity.parse.failed':
      return new BrokerError('INVALID_JSON', 'request body is not valid JSON', { reason: e.message });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new BrokerError('UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported encoding');
    default:
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (caught, req, res, _next) => {
    const err = fromBodyParser(caught) ?? asStoreError(caught, 'the database');
    const log = requestLogger(logger, res);
    if (err instanceof BrokerError) {
      const status = httpStatus(err.code);
      if (status >= 500) log.warn('request failed', { code: err.code, err: toError(err.cause ?? err).message });
      if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      res.status(status).json({ error: { code: err.code, message: err.message, details: err.details ?? null } });
      return;
    }
    log.error('unhandled error', { method: req.method, path: req.path, err: toError(err).stack });
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error', details: null } });
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new BrokerError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

/** Requests that carry a body must say it is JSON (415 otherwise), before any parsing. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    next(new BrokerError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json', { contentType: req.headers['content-type'] ?? null }));
    return;
  }
  next();
};
