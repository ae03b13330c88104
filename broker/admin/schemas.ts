import { nameSchema } from '../http/validation';

/** Request bodies of the admin API. These schemas are the reference documentation of each call. */

const tagsSchema = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, minItems: 1, maxItems: 64, uniqueItems: true } as const;
const maxRetriesSchema = { type: 'integer', minimum: 0, maximum: 1000 } as const;
const backoffMsSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 64,
  items: { type: 'integer', minimum: 0, maximum: 7 * 24 * 3600 * 1000 },
  description: 'Retry delay by retry count (the last entry repeats); default 1s, 5s, 10s, 30s, 1m … 1h',
} as const;
const maxLagSchema = {
  type: 'integer',
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Lag (messages not yet committed, summed over the queues) above which portal-jobs raises an alert',
} as const;
const retentionHoursSchema = { type: 'integer', minimum: 1, maximum: 87_600 } as const;
const maxMessageBytesSchema = { type: 'integer', minimum: 1, maximum: 16 * 1024 * 1024 - 1 } as const;
const ownerSchema = { type: 'string', maxLength: 120 } as const;
/** A setting that `null` resets to its default. */
const orNull = <T extends object>(schema: T) => ({ anyOf: [schema, { type: 'null' }] }) as const;

export const addDbNodeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host', 'database', 'user'],
  properties: {
    name: { ...nameSchema, description: 'Unique node name' },
    host: { type: 'string', minLength: 1, maxLength: 255 },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 3306 },
    database: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' },
    user: { type: 'string', minLength: 1, maxLength: 128 },
    password: { type: 'string', maxLength: 255, default: '' },
    readOnly: { type: 'boolean', default: false },
  },
} as const;

export const createQueuesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['count'],
  properties: { count: { type: 'integer', minimum: 1, maximum: 256, description: 'How many spare queue tables to create' } },
} as const;

export const createTopicSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'queues'],
  properties: {
    name: nameSchema,
    queues: { type: 'integer', minimum: 1, maximum: 1024, description: 'Number of queues (tables)' },
    retentionHours: retentionHoursSchema,
    maxMessageBytes: maxMessageBytesSchema,
    owner: ownerSchema,
    dbNode: { ...nameSchema, description: 'Place the queues on this node only' },
  },
} as const;

export const expandTopicSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['queues'],
  properties: {
    queues: { type: 'integer', minimum: 1, maximum: 1024, description: 'Queues to add' },
    dbNode: nameSchema,
  },
} as const;

export const queueFlagsSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { readable: { type: 'boolean' }, writable: { type: 'boolean' } },
} as const;

export const createGroupSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: nameSchema,
    mode: { enum: ['cluster'], description: 'cluster: the live consumers share the queues (the only mode implemented)' },
    maxRetries: maxRetriesSchema,
  },
} as const;

export const subscribeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['topic'],
  properties: {
    topic: nameSchema,
    start: { enum: ['latest', 'earliest'], description: 'Where a new subscription starts reading' },
    tags: tagsSchema,
    maxRetries: maxRetriesSchema,
    backoffMs: backoffMsSchema,
    maxLag: maxLagSchema,
  },
} as const;

export const alterTopicSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { retentionHours: retentionHoursSchema, maxMessageBytes: maxMessageBytesSchema, owner: orNull(ownerSchema) },
} as const;

export const alterGroupSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['maxRetries'],
  properties: { maxRetries: { ...maxRetriesSchema, description: 'Retries before a failed message goes to the dead topic, for subscriptions that set none' } },
} as const;

export const alterSubscriptionSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'null resets a setting: every message, the group maxRetries, the default backoff, no lag alarm',
  properties: { tags: orNull(tagsSchema), maxRetries: orNull(maxRetriesSchema), backoffMs: orNull(backoffMsSchema), maxLag: orNull(maxLagSchema) },
} as const;

export const shrinkTopicSchema = {
  type: 'object',
  additionalProperties: false,
  // Exactly one of the two (each branch names its property for ajv's strict mode).
  oneOf: [
    { required: ['queues'], properties: { queues: true } },
    { required: ['queueIds'], properties: { queueIds: true } },
  ],
  properties: {
    queues: { type: 'integer', minimum: 1, maximum: 1024, description: 'How many queues to remove: the newest ones not already leaving' },
    queueIds: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 1024, uniqueItems: true, description: 'Or exactly which queues' },
    force: {
      type: 'boolean',
      description: "Don't wait for the subscribed groups to read the queues to their end (their unread messages are lost to them); also forces queues already leaving",
    },
  },
} as const;

export const deleteTopicQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { force: { type: 'boolean', default: false, description: 'Unsubscribe every group first instead of refusing' } },
} as const;

export const resetOffsetsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['topic', 'to'],
  properties: {
    topic: nameSchema,
    to: {
      oneOf: [
        { enum: ['earliest', 'latest'] },
        { type: 'object', additionalProperties: false, required: ['timestamp'], properties: { timestamp: { type: 'string', format: 'date-time' } } },
        {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: { id: { type: 'integer', minimum: 0 }, queueId: { type: 'integer', minimum: 1 } },
        },
      ],
    },
  },
} as const;
