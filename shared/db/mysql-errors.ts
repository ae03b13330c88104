import { BrokerError, toError } from '../errors';

/**
 * The MySQL/MariaDB and driver error codes tablemq handles, and what each means for us.
 * Retryable: a fresh attempt of the same transaction may succeed (InnoDB chose us as victim).
 * Unavailable: the server can't be reached; callers answer 503.
 */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_STATEMENT_TIMEOUT',
  'ER_QUERY_TIMEOUT',
]);

export const ER_DUP_ENTRY = 'ER_DUP_ENTRY';

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // knex wraps pool acquisition failures without a code
  if (err instanceof Error && /Knex: Timeout acquiring a connection/.test(err.message)) return 'ETIMEDOUT';
  return undefined;
}

export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has(codeOf(err) ?? '');
}

export function isUnavailable(err: unknown): boolean {
  return UNAVAILABLE.has(codeOf(err) ?? '');
}

export function isDuplicate(err: unknown): boolean {
  return codeOf(err) === ER_DUP_ENTRY;
}

/** A foreign key names a row that is gone (a group deleted through another broker, say). */
export function isMissingReference(err: unknown): boolean {
  return codeOf(err) === 'ER_NO_REFERENCED_ROW_2' || codeOf(err) === 'ER_NO_REFERENCED_ROW';
}

/** Runs `work` again (up to `attempts` times) when InnoDB picked it as a deadlock victim. */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isRetryable(err) || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

/** Maps a store failure to the API's 503, leaving other errors alone. */
export function asStoreError(caught: unknown, what: string): Error {
  if (caught instanceof BrokerError) return caught;
  if (isUnavailable(caught)) {
    return new BrokerError('STORE_UNAVAILABLE', `${what} is unavailable`, { cause: codeOf(caught) }, {
      cause: caught,
      retryAfterSeconds: 1,
    });
  }
  return toError(caught);
}
