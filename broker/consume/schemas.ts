/** Request bodies of the consumer protocol; they double as its reference documentation. */

/** Names one stored message. */
export const messageRefSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['queueId', 'id'],
  properties: { queueId: { type: 'integer', minimum: 1 }, id: { type: 'integer', minimum: 1 } },
} as const;

export const registerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$', description: 'Client-chosen, unique in the group; re-registering it is idempotent' },
    host: { type: 'string', maxLength: 255 },
  },
} as const;

export const pullSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max: { type: 'integer', minimum: 1, description: 'Most messages to return (default 32, capped by pullMaxMessages)' },
    maxBytes: {
      type: 'integer',
      minimum: 1,
      description: "Most bytes of the messages' JSON to return (default and cap: pullMaxBytes); the first message is returned whatever its size",
    },
    waitMs: { type: 'integer', minimum: 0, description: 'Long-poll up to this long when nothing is ready (capped at pullMaxWaitMs)' },
    positions: {
      type: 'array',
      maxItems: 10_000,
      description: 'Read after these ids instead of the committed offsets, to pipeline pulls ahead of commits',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['queueId', 'offset'],
        properties: { queueId: { type: 'integer', minimum: 1 }, offset: { type: 'integer', minimum: 0 } },
      },
    },
  },
} as const;

export const commitSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['offsets'],
  properties: {
    offsets: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['queueId', 'offset'],
        properties: {
          queueId: { type: 'integer', minimum: 1 },
          offset: { type: 'integer', minimum: 0, description: 'Id of the last processed message of the queue' },
        },
      },
    },
    generation: { type: 'integer', minimum: 0, description: 'Generation from the pull that delivered the messages (recommended)' },
  },
} as const;

export const failSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['messages'],
  properties: {
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: 1_000,
      items: messageRefSchema,
    },
    reason: { type: 'string', maxLength: 1000, description: 'Why processing failed; kept with the retried and dead message' },
    generation: { type: 'integer', minimum: 0 },
  },
} as const;
