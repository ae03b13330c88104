import { setTimeout as sleep } from 'node:timers/promises';
import { parseMysqlUrl, type Config } from '../config';
import type { DbTarget } from './connection-options';
import { toError } from '../errors';
import type { Logger } from '../logger';
import { insertDefaultNodeIfNone, sealPlainPasswords } from '../metadata/nodes';
import { SecretBox } from '../secrets/secret-box';
import { createMetadataDb, ensureDatabase, migrateLatest, type MetadataDb } from './metadata-db';
import { isUnavailable } from './mysql-errors';

/** The metadata DB stayed unreachable for the whole start-up timeout. */
export class StartupTimeoutError extends Error {}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/**
 * Prepares the metadata DB: creates the database if missing, runs migrations and seeds the
 * metadata DB itself as db node `default` when there is no node yet (all under one named lock).
 * Both processes start with it, so whichever comes up first on an empty server sets it up.
 *
 * A server that can't be reached yet (it starts after us, a network blip) is waited for, with a
 * growing pause and one log line per attempt, for up to `startupTimeoutMs` (what counts as
 * unreachable is mysql-errors.ts's rule, and includes refused credentials); any other failure
 * ends start-up at once.
 */
export async function prepareMetadata(config: Config, logger: Logger, stopping?: AbortSignal): Promise<MetadataDb> {
  const target = parseMysqlUrl(config.mysqlUrl);
  const secrets = SecretBox.fromConfig(config);
  if (!secrets.encrypts) logger.warn('no secret key (TABLEMQ_SECRET_KEY): db node passwords are stored in plain text');
  const deadline = Date.now() + config.startupTimeoutMs;
  for (let attempt = 1, pauseMs = FIRST_RETRY_MS; ; attempt++, pauseMs = Math.min(pauseMs * 2, MAX_RETRY_MS)) {
    try {
      const db = await prepareOnce(config, target, secrets, logger);
      if (attempt > 1) logger.info('metadata database reached', { host: target.host, port: target.port, attempts: attempt });
      return db;
    } catch (err) {
      const left = deadline - Date.now();
      if (!isUnavailable(err)) throw err;
      const reason = toError(err).message;
      if (left <= 0 || stopping?.aborted) {
        throw new StartupTimeoutError(
          `the metadata database at ${target.host}:${target.port} stayed unreachable for ${config.startupTimeoutMs} ms (startupTimeoutMs); last error: ${reason}`,
          { cause: err },
        );
      }
      const retryInMs = Math.min(pauseMs, left);
      logger.warn('metadata database unreachable; retrying', { host: target.host, port: target.port, attempt, retryInMs, giveUpInMs: left, err: reason });
      await sleep(retryInMs, undefined, { signal: stopping }).catch(() => undefined);
    }
  }
}

async function prepareOnce(config: Config, target: DbTarget, secrets: SecretBox, logger: Logger): Promise<MetadataDb> {
  await ensureDatabase(target);
  const db = createMetadataDb(target, config.metadataPoolSize, logger);
  try {
    await migrateLatest(db, target.database, async () => {
      const seeded = await insertDefaultNodeIfNone(db, { name: 'default', ...target, readOnly: false }, secrets);
      if (seeded) logger.info('registered the metadata database as db node "default"', { host: target.host, database: target.database });
      const sealed = await sealPlainPasswords(db, secrets);
      if (sealed > 0) logger.info('encrypted db node passwords stored before there was a secret key', { count: sealed });
    });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}
