import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits; the prefix makes a leaked tablemq token easy to recognise (and to scan for). */
const TOKEN_PREFIX = 'tmq_';
const TOKEN_BYTES = 32;

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * What is stored and cached instead of the token. A plain SHA-256 suffices: the token is 256
 * random bits, so there is nothing to brute-force that a slow hash would protect.
 */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** RFC 6750 b64token syntax; anything else is not a bearer token. */
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return BEARER.exec(header)?.[1];
}
