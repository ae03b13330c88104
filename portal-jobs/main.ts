import { ConfigError, loadConfig, unknownEnvWarnings, type Config } from '../shared/config';
import { StartupTimeoutError } from '../shared/db/prepare-metadata';
import { toError } from '../shared/errors';
import { JOB_NAMES, isJobName, type JobName } from '../shared/jobs/names';
import { createLogger } from '../shared/logger';
import { createPortalJobs } from './app';
import type { RunOutcome } from './run-job';
import { checkJobSchedules } from './schedule-config';

/**
 * The portal-jobs process (`tablemq-jobs` once built: bin/tablemq-jobs.js runs dist/ as it is).
 *   tablemq-jobs            runs the scheduler until SIGTERM/SIGINT (exit 0)
 *   tablemq-jobs run <job>  runs one job once, under its lease, and exits:
 *                           0 succeeded, 1 failed, 3 not run (another instance holds the lease)
 *   tablemq-jobs --help     prints the usage (exit 0)
 * Bad arguments or configuration exit 2 with a message naming what is wrong.
 */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_LEASE_HELD = 3;

const USAGE = `usage: tablemq-jobs            run the job scheduler
       tablemq-jobs run <job>  run one job once, now, and exit (jobs: ${JOB_NAMES.join(', ')})
       tablemq-jobs --help     show this
Exit status of run: 0 succeeded, 1 failed, 2 bad arguments or configuration, 3 not run (another
instance holds the job's lease). Configuration: the same TABLEMQ_* variables as the broker.`;

function parseArgs(argv: readonly string[]): { mode: 'schedule' } | { mode: 'run'; job: JobName } {
  if (argv.length === 0) return { mode: 'schedule' };
  if (argv.some((arg) => arg === '--help' || arg === '-h' || arg === 'help')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const [command, job, ...rest] = argv;
  if (command === 'run' && job !== undefined && isJobName(job) && rest.length === 0) return { mode: 'run', job };
  const problem = command !== 'run' ? `unknown command ${JSON.stringify(command)}` : job === undefined ? 'run needs a job name' : !isJobName(job) ? `unknown job ${JSON.stringify(job)}` : 'too many arguments';
  process.stderr.write(`tablemq-jobs: ${problem}\n${USAGE}\n`);
  process.exit(EXIT_USAGE);
}

function configOrExit(): Config {
  try {
    const config = loadConfig();
    checkJobSchedules(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tablemq: ${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    throw err;
  }
}

function exitCodeOf(job: JobName, outcome: RunOutcome): number {
  switch (outcome.kind) {
    case 'finished':
      return outcome.status === 'succeeded' ? 0 : EXIT_FAILED;
    case 'lease-held':
      process.stderr.write(`portal-jobs: ${job} not run: its lease is held by ${outcome.holder ?? '?'} until ${outcome.until?.toISOString() ?? '?'}\n`);
      return EXIT_LEASE_HELD;
    case 'already-ran': // only scheduled runs have a tick to collide on; a manual run never does
      return EXIT_FAILED;
    default: {
      const unexpected: never = outcome;
      throw new Error(`unexpected outcome ${JSON.stringify(unexpected)}`);
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = configOrExit();
  const logger = createLogger(config.logLevel, 'portal-jobs');
  for (const warning of unknownEnvWarnings()) logger.warn(warning);
  const app = await createPortalJobs(config, logger);

  if (args.mode === 'run') {
    // A signal stops the job at its next step; the run is recorded as failed and the lease released.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => app.interrupt());
    const outcome = await app.runOnce(args.job).finally(() => app.stop());
    process.exit(exitCodeOf(args.job, outcome));
  }

  await app.startHttp();
  app.scheduler.start();
  logger.info('portal-jobs started', { holder: app.ctx.holder, schedule: app.scheduler.schedule });
  let stopping = false;
  const shutdown = (signal: string) => {
    // npm start's launcher forwards the signal a terminal also sends: act on the first only.
    if (stopping) return;
    stopping = true;
    logger.info('signal received', { signal });
    app.stop().then(
      () => {
        logger.info('portal-jobs stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('shutdown failed', { err: toError(err).message });
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof StartupTimeoutError) {
    process.stderr.write(`tablemq portal-jobs failed to start: ${err.message}\n`);
    process.exit(EXIT_FAILED);
  }
  process.stderr.write(`tablemq portal-jobs failed: ${toError(err).stack ?? String(err)}\n`);
  process.exit(EXIT_FAILED);
});
