import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv';
import addFormats from 'ajv-formats';
import { BrokerError } from '../../shared/errors';

/** One ajv for all request schemas; the schemas double as the API reference (see /api/v1/openapi.json). */
export const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
addFormats(ajv);

/** Topic, group and node names end up in URLs, logs and metadata: keep them boring. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$';
const nameRegex = new RegExp(NAME_PATTERN);

export const nameSchema = { type: 'string', pattern: NAME_PATTERN } as const;

function describe(errors: ErrorObject[] | null | undefined) {
  return (errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid', params: e.params }));
}

/** Compiles a schema into a function that returns the typed value or throws a 400. */
export function validator<T>(schema: JSONSchemaType<T> | object, what = 'request body'): (value: unknown) => T {
  const check = ajv.compile<T>(schema);
  return (value: unknown): T => {
    if (!check(value)) {
      throw new BrokerError('VALIDATION_FAILED', `${what} does not match the schema`, describe(check.errors));
    }
    return value;
  };
}

/** Checks a name taken from a URL path before it is used anywhere. */
export function checkName(kind: string, value: string): string {
  if (!nameRegex.test(value)) {
    throw new BrokerError('INVALID_NAME', `${kind} name must match ${NAME_PATTERN}`, { [kind]: value });
  }
  return value;
}

/**
 * Decodes one percent-encoded path segment; `%ZZ` or a cut-off UTF-8 sequence is a 400. Express's
 * router decodes its own params and throws a URIError instead, which the error handler maps here.
 */
export function decodePathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw malformedEncoding(raw);
  }
}

export function malformedEncoding(segment: string | undefined): BrokerError {
  return new BrokerError('VALIDATION_FAILED', 'malformed percent-encoding in the URL', { segment: segment ?? null });
}

/** Parses a positive integer id taken from a URL path. */
export function parseId(kind: string, value: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value)) {
    throw new BrokerError('VALIDATION_FAILED', `${kind} must be a positive integer`, { [kind]: value });
  }
  return Number(value);
}
