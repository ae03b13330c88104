import { nameSchema } from '../http/validation';

/** Request bodies of /api/v1/admin/apps; these schemas are the reference documentation of each call. */

/** A topic or group name, `*` (every one) or `prefix.*` (every name starting with `prefix.`). */
export const NAME_OR_WILDCARD_PATTERN = '^(\\*|[A-Za-z0-9][A-Za-z0-9._-]{0,117}\\.\\*|[A-Za-z0-9][A-Za-z0-9._-]{0,119})$';
const nameOrWildcard = { type: 'string', pattern: NAME_OR_WILDCARD_PATTERN } as const;

export const grantSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['permission'],
  properties: {
    permission: { enum: ['admin', 'produce', 'consume'], description: 'admin: everything; produce: into `topic`; consume: in `group`' },
    topic: { ...nameOrWildcard, description: 'With produce (and only then): a topic name or wildcard' },
    group: { ...nameOrWildcard, description: 'With consume (and only then): a group name or wildcard' },
  },
  // `false`: the property must be absent (an admin grant names nothing; produce no group; consume no topic).
  allOf: [
    { if: { properties: { permission: { const: 'produce' } } }, then: { required: ['topic'], properties: { topic: nameOrWildcard, group: false } } },
    { if: { properties: { permission: { const: 'consume' } } }, then: { required: ['group'], properties: { group: nameOrWildcard, topic: false } } },
    { if: { properties: { permission: { const: 'admin' } } }, then: { properties: { topic: false, group: false } } },
  ],
} as const;

export const createAppSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { ...nameSchema, description: 'Unique app name (a service or a person)' },
    grants: { type: 'array', maxItems: 100, items: grantSchema, description: 'Granted with the app, in the same transaction' },
  },
} as const;

export interface GrantBody {
  permission: 'admin' | 'produce' | 'consume';
  topic?: string;
  group?: string;
}

export interface CreateAppBody {
  name: string;
  grants?: GrantBody[];
}
