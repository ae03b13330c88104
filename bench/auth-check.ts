/**
 * What the token check costs a request: `Authenticator.authenticate` on a cached token (every
 * request after a token's first within authCacheMs), next to the same call with auth off. Run
 * alone: `node --import tsx bench/auth-check.ts` (a throwaway database on the local MariaDB).
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../shared/config';
import { prepareMetadata } from '../shared/db/prepare-metadata';
import { createLogger } from '../shared/logger';
import { Authenticator } from '../broker/auth/authenticator';
import { bootstrapAdmin } from '../broker/auth/bootstrap';
import { newToken } from '../broker/auth/tokens';
import { adminConnection, benchDatabaseName, createDatabase, dropDatabase, mysqlUrl } from './mariadb';

const CALLS = 200_000;
const ROUNDS = 5;

async function perCallMicros(auth: Authenticator, header: string): Promise<number> {
  await auth.authenticate(header); // the first call fills the cache
  const best: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    for (let i = 0; i < CALLS; i += 1) await auth.authenticate(header);
    best.push(((performance.now() - started) * 1000) / CALLS);
  }
  return Math.min(...best);
}

async function main(): Promise<void> {
  const admin = await adminConnection();
  const database = benchDatabaseName();
  await createDatabase(admin, database);
  const token = newToken();
  const config = loadConfig({}, { mysqlUrl: mysqlUrl(database), adminToken: token, metadataPoolSize: 2, logLevel: 'error' });
  const logger = createLogger('error', 'auth-check');
  const db = await prepareMetadata(config, logger);
  try {
    await bootstrapAdmin(db, config, logger);
    const on = await perCallMicros(new Authenticator(db, config), `Bearer ${token}`);
    const off = await perCallMicros(new Authenticator(db, { ...config, auth: 'off' }), `Bearer ${token}`);
    process.stdout.write(`${JSON.stringify({ calls: CALLS, rounds: ROUNDS, authOnMicrosPerCall: +on.toFixed(3), authOffMicrosPerCall: +off.toFixed(3), checkMicros: +(on - off).toFixed(3) })}\n`);
  } finally {
    await db.destroy();
    await dropDatabase(admin, database);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
