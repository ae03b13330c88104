/**
 * Typed errors with a stable code. `httpStatus` is the one place codes map to HTTP statuses;
 * the broker's error middleware turns a BrokerError into {"error": {code, message, details}}.
 */
const STATUS_BY_CODE = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_NAME: 400,
  OFFSET_OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOPIC_NOT_FOUND: 404,
  QUEUE_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  DB_NODE_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  SUBSCRIPTION_NOT_FOUND: 404,
  CONSUMER_EXPIRED: 404,
  APP_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  REBALANCED: 409,
  UNKNOWN_GENERATION: 409,
  ALREADY_COMMITTED: 409,
  NO_WRITABLE_QUEUE: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  MESSAGE_TOO_LARGE: 413,
  TOO_MANY_MESSAGES: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  DB_NODE_UNREACHABLE: 422,
  INTERNAL: 500,
  STORE_UNAVAILABLE: 503,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
} as const;

export type ErrorCode = keyof typeof STATUS_BY_CODE;

/** Every error code, for the API description. */
export const ERROR_CODES = Object.keys(STATUS_BY_CODE) as ErrorCode[];

export function httpStatus(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

export class BrokerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrokerError';
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  readonly retryAfterSeconds: number | undefined;
}

/** Normalises whatever a catch clause caught into an Error. */
export function toError(caught: unknown): Error {
  if (caught instanceof Error) return caught;
  return new Error(typeof caught === 'string' ? caught : JSON.stringify(caught));
}
