import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BrokerError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { requestLogger } from './request-context';
import { sendError } from './raw-json';
import { malformedEncoding } from './validation';

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

/** The router decodes path params itself and throws a URIError on `%ZZ`: the client's mistake. */
function fromUrlDecoding(err: unknown): BrokerError | undefined {
  if (!(err instanceof URIError)) return undefined;
  return malformedEncoding(/'(.*)'/.exec(err.message)?.[1]);
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  // sendError maps the error, logs 5xx answers (with the stack for a 500) and writes the body.
  return (caught, _req, res, _next) => {
    sendError(res, fromBodyParser(caught) ?? fromUrlDecoding(caught) ?? caught, requestLogger(logger, res));
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
