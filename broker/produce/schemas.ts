/** The produce request body. `body` is any JSON value and is stored as its JSON text. */
export const produceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['messages'],
  properties: {
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['body'],
        properties: {
          body: { description: 'Any JSON value' },
          key: { type: 'string', minLength: 1, maxLength: 128, description: 'Messages with the same key go to the same queue' },
          tag: { type: 'string', minLength: 1, maxLength: 64 },
          traceId: { type: 'string', minLength: 1, maxLength: 64 },
          headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 64 },
          delayMs: { type: 'integer', minimum: 0, description: 'Deliver this many ms from now (at most maxDelayMs)' },
          deliverAt: { type: 'string', format: 'date-time', description: 'Deliver at this time (at most maxDelayMs ahead); not with delayMs' },
        },
      },
    },
  },
} as const;

export interface ProduceMessage {
  body: unknown;
  key?: string;
  tag?: string;
  traceId?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  deliverAt?: string;
}

export interface ProduceBody {
  messages: ProduceMessage[];
}
