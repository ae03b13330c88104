import { BrokerResponseError, BrokersUnavailableError } from '../client/errors';

/**
 * What the exit status of `tablemq` means, for scripts:
 *   0 done; 1 the broker refused the request (bad input, conflict, ...); 2 bad usage (unknown
 *   command or option, a bad value); 3 not found (topic, group, node, message...); 4 no broker
 *   answered, or one answered that it is unavailable (5xx).
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, notFound: 3, unavailable: 4 } as const;

export class UsageError extends Error {}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof BrokersUnavailableError) return EXIT.unavailable;
  if (err instanceof BrokerResponseError) {
    if (err.status === 404) return EXIT.notFound;
    return err.status >= 500 ? EXIT.unavailable : EXIT.refused;
  }
  return EXIT.refused;
}

/** One line for stderr: the broker's code and message, and its details when they say more. */
export function describeError(err: unknown): string {
  if (err instanceof BrokerResponseError) {
    const details = err.details === undefined || err.details === null ? '' : ` ${JSON.stringify(err.details)}`;
    return `${err.code} (${err.status}): ${err.message}${details}`;
  }
  if (err instanceof BrokersUnavailableError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return err instanceof Error ? err.message : String(err);
}
