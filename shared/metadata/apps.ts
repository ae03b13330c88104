import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export type Permission = 'admin' | 'produce' | 'consume';

/** One permission as stored: `resource` is a topic (produce) or group (consume) name or wildcard, '' for admin. */
export interface Grant {
  permission: Permission;
  resource: string;
}

export interface App {
  id: number;
  name: string;
  createdAt: Date;
}

export interface AppDetail extends App {
  tokens: { id: number; createdAt: Date }[];
  grants: Grant[];
}

/** The app a token hash belongs to, with the hash as stored (compared once more in constant time). */
export interface TokenOwner {
  app: App;
  storedHash: Buffer;
  grants: Grant[];
}

interface AppRecord {
  id: number;
  name: string;
  created_at: Date;
}

const toApp = (r: AppRecord): App => ({ id: r.id, name: r.name, createdAt: r.created_at });

export async function insertApp(db: Db, name: string): Promise<number> {
  const [id] = await db('app').insert({ name });
  return Number(id);
}

export async function findApp(db: Db, name: string): Promise<App | undefined> {
  const row: AppRecord | undefined = await db('app').where({ name }).first();
  return row && toApp(row);
}

export async function deleteApp(db: Db, id: number): Promise<void> {
  // Tokens and grants go with it (ON DELETE CASCADE).
  await db('app').where({ id }).delete();
}

export async function insertToken(db: Db, appId: number, hash: Buffer): Promise<number> {
  const [id] = await db('app_token').insert({ app_id: appId, token_hash: hash });
  return Number(id);
}

export async function hasToken(db: Db, appId: number, hash: Buffer): Promise<boolean> {
  return (await db('app_token').where({ app_id: appId, token_hash: hash }).first('id')) !== undefined;
}

export async function deleteToken(db: Db, appId: number, tokenId: number): Promise<boolean> {
  return (await db('app_token').where({ app_id: appId, id: tokenId }).delete()) > 0;
}

/** False when the app already had the grant. */
export async function insertGrant(db: Db, appId: number, grant: Grant): Promise<boolean> {
  const existing = await db('app_grant').where({ app_id: appId, permission: grant.permission, resource: grant.resource }).first('id');
  if (existing) return false;
  await db('app_grant').insert({ app_id: appId, permission: grant.permission, resource: grant.resource });
  return true;
}

export async function deleteGrant(db: Db, appId: number, grant: Grant): Promise<boolean> {
  return (await db('app_grant').where({ app_id: appId, permission: grant.permission, resource: grant.resource }).delete()) > 0;
}

async function grantsByApp(db: Db, appIds: number[]): Promise<Map<number, Grant[]>> {
  const rows: { app_id: number; permission: Permission; resource: string }[] =
    appIds.length === 0 ? [] : await db('app_grant').whereIn('app_id', appIds).select('app_id', 'permission', 'resource').orderBy('id');
  const byApp = new Map<number, Grant[]>();
  for (const r of rows) byApp.set(r.app_id, [...(byApp.get(r.app_id) ?? []), { permission: r.permission, resource: r.resource }]);
  return byApp;
}

/** Every app with its token ids (never the hashes) and grants, by name. */
export async function listApps(db: Db, name?: string): Promise<AppDetail[]> {
  const query = db('app').select('*').orderBy('name');
  const apps = ((await (name === undefined ? query : query.where({ name }))) as AppRecord[]).map(toApp);
  const ids = apps.map((a) => a.id);
  const tokens: { id: number; app_id: number; created_at: Date }[] = ids.length === 0 ? [] : await db('app_token').whereIn('app_id', ids).select('id', 'app_id', 'created_at').orderBy('id');
  const grants = await grantsByApp(db, ids);
  return apps.map((a) => ({
    ...a,
    tokens: tokens.filter((t) => t.app_id === a.id).map((t) => ({ id: t.id, createdAt: t.created_at })),
    grants: grants.get(a.id) ?? [],
  }));
}

export async function findTokenOwner(db: Db, hash: Buffer): Promise<TokenOwner | undefined> {
  const row: (AppRecord & { token_hash: Buffer }) | undefined = await db('app_token')
    .join('app', 'app.id', 'app_token.app_id')
    .where('app_token.token_hash', hash)
    .first('app.id', 'app.name', 'app.created_at', 'app_token.token_hash');
  if (!row) return undefined;
  return { app: toApp(row), storedHash: row.token_hash, grants: (await grantsByApp(db, [row.id])).get(row.id) ?? [] };
}

/** Apps that hold the admin permission and at least one token: the ones that can still administer. */
export async function usableAdminCount(db: Db): Promise<number> {
  const [row] = (await db('app_grant')
    .where('app_grant.permission', 'admin')
    .whereExists(db('app_token').whereRaw('app_token.app_id = app_grant.app_id').select(db.raw('1')))
    .countDistinct({ n: 'app_grant.app_id' })) as { n: number | string }[];
  return Number(row?.n ?? 0);
}

/** Whether any app holds the admin permission (the bootstrap creates one only when none does). */
export async function anyAdminApp(db: Db): Promise<boolean> {
  return (await db('app_grant').where({ permission: 'admin' }).first('id')) !== undefined;
}
