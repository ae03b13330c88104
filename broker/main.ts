import { ConfigError, loadConfig, unknownEnvWarnings } from '../shared/config';
import { StartupTimeoutError } from '../shared/db/prepare-metadata';
import { toError } from '../shared/errors';
import { createLogger } from '../shared/logger';
import { startBroker } from './server';

/** Bad configuration (including a TLS file or the admin token file that can't be used) exits 2, naming the setting. */
function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`tablemq: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

/** The broker process: config → metadata DB → HTTP(S) server; SIGTERM/SIGINT drain and exit 0. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    exitOnConfigError(err);
  }
  const logger = createLogger(config.logLevel, 'broker');
  for (const warning of unknownEnvWarnings()) logger.warn(warning);
  const broker = await startBroker(config, logger).catch(exitOnConfigError);
  const shutdown = (signal: string) => {
    logger.info('signal received', { signal });
    broker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err: toError(err).message });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof StartupTimeoutError) {
    process.stderr.write(`tablemq broker failed to start: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`tablemq broker failed to start: ${toError(err).stack ?? String(err)}\n`);
  process.exit(1);
});
