import type { IncomingMessage, ServerResponse } from 'node:http';
import { BrokerError, httpStatus, toError } from '../../shared/errors';
import { asStoreError } from '../../shared/db/mysql-errors';
import type { Logger } from '../../shared/logger';
import { checkJsonDepth } from './json-depth';

/**
 * JSON over plain node:http, for the few routes that carry the traffic (produce, pull, commit).
 * Express 5 costs several times what Node's own HTTP does per request on this machine (a trivial
 * express route served ~5.4k req/s where a plain handler served ~20k), so the hot routes skip it.
 * The rules are the ones express.json and our middleware apply elsewhere: JSON only (415),
 * a byte limit (413), UTF-8 only, no compressed bodies, a clear 400 for broken JSON.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readJsonText(req, limit);
  return text === undefined ? undefined : parseJson(text);
}

export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BrokerError('INVALID_JSON', 'request body is not valid JSON', { reason: toError(err).message });
  }
  checkJsonDepth(value);
  return value;
}

/** The request body as text, after the same checks (undefined when there is no body). */
export function readJsonText(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const contentType = req.headers['content-type'];
    const length = Number(req.headers['content-length'] ?? 0);
    const hasBody = req.headers['transfer-encoding'] !== undefined || length > 0;
    if (!hasBody) {
      resolve(undefined);
      return;
    }
    const [mediaType, ...params] = (contentType ?? '').split(';').map((p) => p.trim().toLowerCase());
    const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
    if (mediaType !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
      reject(new BrokerError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json (UTF-8)', { contentType: contentType ?? null }));
      return;
    }
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      reject(new BrokerError('UNSUPPORTED_MEDIA_TYPE', `content-encoding ${encoding} is not supported here`, { contentEncoding: encoding }));
      return;
    }
    if (length > limit) {
      reject(new BrokerError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`, { limit }));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      received += chunk.length;
      if (received > limit) {
        failed = true;
        reject(new BrokerError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`, { limit }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, received).toString('utf8'));
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: string | Buffer | readonly Buffer[]): void {
  if (res.writableEnded || res.destroyed) return;
  const single = typeof body === 'string' || Buffer.isBuffer(body);
  const length = single ? Buffer.byteLength(body) : body.reduce((n, part) => n + part.length, 0);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': length });
  if (single) {
    res.end(body);
    return;
  }
  // Parts go out in one corked write (one writev): a pull answer is hundreds of KB of row
  // buffers, and concatenating them first only adds a copy and garbage.
  res.cork();
  for (const part of body) res.write(part);
  res.end();
  res.uncork();
}

/** The error body and status every route answers with, express or not. */
export function errorAnswer(caught: unknown): { status: number; body: string; retryAfter?: number; logged?: Error } {
  const err = asStoreError(caught, 'the database');
  if (err instanceof BrokerError) {
    return {
      status: httpStatus(err.code),
      body: JSON.stringify({ error: { code: err.code, message: err.message, details: err.details ?? null } }),
      retryAfter: err.retryAfterSeconds,
      logged: httpStatus(err.code) >= 500 ? toError(err.cause ?? err) : undefined,
    };
  }
  return { status: 500, body: JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error', details: null } }), logged: toError(err) };
}

export function sendError(res: ServerResponse, caught: unknown, logger: Logger): void {
  const answer = errorAnswer(caught);
  if (answer.logged) {
    if (answer.status === 500) logger.error('unhandled error', { err: answer.logged.stack });
    else logger.warn('request failed', { status: answer.status, err: answer.logged.message });
  }
  if (answer.retryAfter !== undefined && !res.headersSent) res.setHeader('Retry-After', String(answer.retryAfter));
  // RFC 6750: a 401 names the scheme the client should use.
  if (answer.status === 401 && !res.headersSent) res.setHeader('WWW-Authenticate', 'Bearer realm="tablemq"');
  sendJson(res, answer.status, answer.body);
}
