import { BrokerError } from '../../shared/errors';

/**
 * How deeply a request body may nest arrays and objects, counted from the body itself (a produce
 * body's messages sit at depth 3). JSON.parse builds any depth, but JSON.stringify and every
 * recursive walk after it overflow the stack somewhere past a few thousand levels, so a bound is
 * checked once, right after parsing, and the rest of the broker may recurse freely.
 */
export const MAX_JSON_DEPTH = 128;

/** Throws a 400 when `value` nests deeper than MAX_JSON_DEPTH. */
export function checkJsonDepth(value: unknown): void {
  if (deeperThan(value, MAX_JSON_DEPTH)) {
    throw new BrokerError('VALIDATION_FAILED', `request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, { limit: MAX_JSON_DEPTH });
  }
}

// Recursion is bounded by `levels`, so this walk itself can't overflow.
function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (deeperThan(item, levels - 1)) return true;
    return false;
  }
  for (const key in value) if (deeperThan((value as Record<string, unknown>)[key], levels - 1)) return true;
  return false;
}
