import type { Knex } from 'knex';
import { BrokerError } from '../../shared/errors';
import { isDuplicate } from '../../shared/db/mysql-errors';
import { writeAudit } from '../../shared/metadata/audit';
import {
  deleteApp as deleteAppRow,
  deleteGrant,
  deleteToken,
  findApp,
  insertApp,
  insertGrant,
  insertToken,
  listApps as listAppRows,
  usableAdminCount,
  type App,
  type AppDetail,
  type Grant,
} from '../../shared/metadata/apps';
import type { BrokerContext } from '../context';
import type { CreateAppBody, GrantBody } from './schemas';
import { hashToken, newToken } from './tokens';

/** The API's grant shape ({permission, topic?, group?}) to the stored one, and back. */
export function storedGrant(g: GrantBody): Grant {
  return { permission: g.permission, resource: g.topic ?? g.group ?? '' };
}

export function grantBody(g: Grant): GrantBody {
  if (g.permission === 'produce') return { permission: 'produce', topic: g.resource };
  if (g.permission === 'consume') return { permission: 'consume', group: g.resource };
  return { permission: 'admin' };
}

/** Never the token hashes: an app's tokens are known by id only. */
function describeApp(a: AppDetail) {
  return {
    name: a.name,
    createdAt: a.createdAt.toISOString(),
    tokens: a.tokens.map((t) => ({ id: t.id, createdAt: t.createdAt.toISOString() })),
    grants: a.grants.map(grantBody),
  };
}

async function requireApp(db: Knex | Knex.Transaction, name: string): Promise<App> {
  const app = await findApp(db, name);
  if (!app) throw new BrokerError('APP_NOT_FOUND', `app ${name} does not exist`, { app: name });
  return app;
}

/**
 * Runs an app change in one transaction with its audit row, refuses one that would leave no app
 * able to administer (the way back in would be a restart with TABLEMQ_ADMIN_TOKEN), and makes
 * this broker forget its cached tokens, so the change applies here at once.
 */
async function changeApps<T>(ctx: BrokerContext, change: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const result = await ctx.db.transaction(async (trx) => {
    const adminsBefore = await usableAdminCount(trx);
    const value = await change(trx);
    if (adminsBefore > 0 && (await usableAdminCount(trx)) === 0) {
      throw new BrokerError('CONFLICT', 'this change would leave no app with the admin permission and a token');
    }
    return value;
  });
  ctx.auth.forget();
  return result;
}

export async function createApp(ctx: BrokerContext, body: CreateAppBody, actor: string) {
  const token = newToken();
  const grants = (body.grants ?? []).map(storedGrant);
  const tokenId = await changeApps(ctx, async (trx) => {
    let appId: number;
    try {
      appId = await insertApp(trx, body.name);
    } catch (err) {
      if (isDuplicate(err)) throw new BrokerError('ALREADY_EXISTS', `app ${body.name} already exists`, { app: body.name });
      throw err;
    }
    for (const g of grants) await insertGrant(trx, appId, g);
    const id = await insertToken(trx, appId, hashToken(token));
    await writeAudit(trx, { actor, action: 'app.create', target: `app:${body.name}`, detail: { tokenId: id, grants: grants.map(grantBody) } });
    return id;
  });
  return { name: body.name, token, tokenId, grants: grants.map(grantBody) };
}

export async function listApps(ctx: BrokerContext) {
  return { apps: (await listAppRows(ctx.db)).map(describeApp) };
}

export async function getApp(ctx: BrokerContext, name: string) {
  const [app] = await listAppRows(ctx.db, name);
  if (!app) throw new BrokerError('APP_NOT_FOUND', `app ${name} does not exist`, { app: name });
  return describeApp(app);
}

export async function deleteApp(ctx: BrokerContext, name: string, actor: string) {
  await changeApps(ctx, async (trx) => {
    const app = await requireApp(trx, name);
    await deleteAppRow(trx, app.id);
    await writeAudit(trx, { actor, action: 'app.delete', target: `app:${name}` });
  });
  return { name, deleted: true };
}

/** A new token beside the app's others: rotate by adding one, moving clients to it, revoking the old. */
export async function addToken(ctx: BrokerContext, name: string, actor: string) {
  const token = newToken();
  const tokenId = await changeApps(ctx, async (trx) => {
    const app = await requireApp(trx, name);
    const id = await insertToken(trx, app.id, hashToken(token));
    await writeAudit(trx, { actor, action: 'app.token.add', target: `app:${name}`, detail: { tokenId: id } });
    return id;
  });
  return { app: name, tokenId, token };
}

export async function revokeToken(ctx: BrokerContext, name: string, tokenId: number, actor: string) {
  await changeApps(ctx, async (trx) => {
    const app = await requireApp(trx, name);
    if (!(await deleteToken(trx, app.id, tokenId))) {
      throw new BrokerError('TOKEN_NOT_FOUND', `app ${name} has no token ${tokenId}`, { app: name, tokenId });
    }
    await writeAudit(trx, { actor, action: 'app.token.revoke', target: `app:${name}`, detail: { tokenId } });
  });
  return { app: name, tokenId, revoked: true };
}

/** Grants (`add`) or revokes (`remove`) one permission; doing it twice is harmless (`changed` false, no audit row). */
async function changeGrant(ctx: BrokerContext, name: string, body: GrantBody, actor: string, change: 'add' | 'remove'): Promise<boolean> {
  return changeApps(ctx, async (trx) => {
    const app = await requireApp(trx, name);
    const changed = change === 'add' ? await insertGrant(trx, app.id, storedGrant(body)) : await deleteGrant(trx, app.id, storedGrant(body));
    if (changed) await writeAudit(trx, { actor, action: change === 'add' ? 'app.grant' : 'app.revoke-grant', target: `app:${name}`, detail: body });
    return changed;
  });
}

export async function grant(ctx: BrokerContext, name: string, body: GrantBody, actor: string) {
  return { app: name, grant: grantBody(storedGrant(body)), added: await changeGrant(ctx, name, body, actor, 'add') };
}

export async function revokeGrant(ctx: BrokerContext, name: string, body: GrantBody, actor: string) {
  return { app: name, grant: grantBody(storedGrant(body)), removed: await changeGrant(ctx, name, body, actor, 'remove') };
}
