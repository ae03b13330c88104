import { parseMysqlUrl, type Config } from '../config';
import type { Logger } from '../logger';
import { insertDefaultNodeIfNone } from '../metadata/nodes';
import { createMetadataDb, ensureDatabase, migrateLatest, type MetadataDb } from './metadata-db';

/**
 * Prepares the metadata DB: creates the database if missing, runs migrations and seeds the
 * metadata DB itself as db node `default` when there is no node yet (all under one named lock).
 * Both processes start with it, so whichever comes up first on an empty server sets it up.
 */
export async function prepareMetadata(config: Config, logger: Logger): Promise<MetadataDb> {
  const target = parseMysqlUrl(config.mysqlUrl);
  await ensureDatabase(target);
  const db = createMetadataDb(target, config.metadataPoolSize, logger);
  try {
    await migrateLatest(db, async () => {
      const seeded = await insertDefaultNodeIfNone(db, { name: 'default', ...target, readOnly: false });
      if (seeded) logger.info('registered the metadata database as db node "default"', { host: target.host, database: target.database });
    });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}
