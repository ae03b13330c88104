import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, envName, parseMysqlUrl, type Config } from '../../shared/config';
import { toError } from '../../shared/errors';
import type { MetadataDb } from '../../shared/db/metadata-db';
import { databaseLockName, withNamedLock } from '../../shared/db/named-lock';
import type { Logger } from '../../shared/logger';
import { anyAdminApp, findApp, hasToken, insertApp, insertGrant, insertToken } from '../../shared/metadata/apps';
import { writeAudit } from '../../shared/metadata/audit';
import { hashToken, newToken } from './tokens';

const ADMIN_APP = 'admin';
const ACTOR = 'bootstrap';

/**
 * Makes sure someone can administer a broker that has auth on (docs/security.md):
 * - TABLEMQ_ADMIN_TOKEN given: app "admin" exists, has the admin permission and this token;
 * - otherwise, when no app has the admin permission: app "admin" is created with a new token,
 *   which is written to TABLEMQ_ADMIN_TOKEN_FILE (mode 0600) and never logged.
 * Brokers starting together take turns under a named lock, so one creates and the others find it.
 */
export async function bootstrapAdmin(db: MetadataDb, config: Config, logger: Logger): Promise<void> {
  if (config.auth === 'off') {
    logger.warn('authentication is off (TABLEMQ_AUTH=off): anyone who can reach this port may do anything');
    return;
  }
  await withNamedLock(db, databaseLockName('bootstrap', parseMysqlUrl(config.mysqlUrl).database), 60, async () => {
    if (config.adminToken !== '') {
      if (await ensureAdminToken(db, hashToken(config.adminToken))) logger.info('added the token of TABLEMQ_ADMIN_TOKEN to app "admin"');
      return;
    }
    if (await anyAdminApp(db)) return;
    const token = newToken();
    // The file first: a token that reached the database but not the file would lock everyone out.
    const file = path.resolve(config.adminTokenFile);
    await writeSecretFile(file, token).catch((err: unknown) => {
      throw new ConfigError(`adminTokenFile (${envName('adminTokenFile')}): cannot write ${file}: ${toError(err).message}`);
    });
    await ensureAdminToken(db, hashToken(token));
    logger.info('created app "admin"; its token is in the admin token file (shown nowhere else)', { file });
  });
}

/** Returns true when it changed something (false: app "admin" already had the grant and the token). */
async function ensureAdminToken(db: MetadataDb, hash: Buffer): Promise<boolean> {
  return db.transaction(async (trx) => {
    const existing = await findApp(trx, ADMIN_APP);
    const appId = existing?.id ?? (await insertApp(trx, ADMIN_APP));
    const grantAdded = await insertGrant(trx, appId, { permission: 'admin', resource: '' });
    const tokenId = (await hasToken(trx, appId, hash)) ? null : await insertToken(trx, appId, hash);
    if (!grantAdded && tokenId === null) return false;
    await writeAudit(trx, { actor: ACTOR, action: existing ? 'app.token.add' : 'app.create', target: `app:${ADMIN_APP}`, detail: { tokenId, grantAdded } });
    return true;
  });
}

/**
 * Writes the token readable by this user only: a private directory (0700 when created here), a
 * temporary file created 0600, then an atomic rename, so a reader never sees a partial token.
 */
async function writeSecretFile(file: string, secret: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, secret + '\n', { mode: 0o600, flag: 'wx' });
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
