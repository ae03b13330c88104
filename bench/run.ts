/**
 * The benchmark suite of issue 6 (not part of `npm test`): `npm run bench -- [--quick] [flags]`.
 * Starts a broker in its own process against a fresh database, measures produce, consume and
 * end-to-end latency next to raw-MariaDB and express baselines and the peers, prints a table and
 * writes bench-results/bench-<timestamp>.json. Flags: bench/args.ts or `npm run bench -- --help`.
 *
 * Exit code: 0 when every tablemq and baseline scenario produced its numbers, whether or not the
 * targets were met; 1 when the harness broke (setup, teardown, or a scenario that could not run).
 * A peer that fails (service down, package missing) is reported in its row and does not count.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseOptions } from './args';
import { peerChecks, targetChecks } from './checks';
import { REPO_ROOT } from './child';
import { machineInfo } from './machine';
import { adminConnection, benchDatabaseName, createDatabase, dropDatabase, serverFacts } from './mariadb';
import { errorMessage } from './peers/common';
import { findPidByName, machineBusyCores } from './procfs';
import { formatReport } from './report';
import type { BenchReport } from './results';
import { progress } from './scenario';
import { runPeers, runSuite } from './suite';
import { Teardown } from './teardown';
import { FULL_SCALE, QUICK_SCALE, formatScale, runScale, type ScaleSize } from './scale';

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts === 'help') return 0;
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const outDir = path.resolve(REPO_ROOT, opts.outDir);
  const teardown = new Teardown();
  // Ctrl-C still stops the children and drops the database.
  process.once('SIGINT', () => {
    progress('interrupted: cleaning up');
    void teardown.run().finally(() => process.exit(130));
  });

  if (opts.scale) return scaleMain(opts.quick ? QUICK_SCALE : FULL_SCALE, outDir, stamp, teardown);

  const errors: string[] = [];
  const busyBeforeStartCores = await machineBusyCores(1000);
  if ((busyBeforeStartCores ?? 0) > 0.25) {
    progress(`warning: the machine is already busy (${busyBeforeStartCores?.toFixed(2)} cores): figures will be skewed`);
  }
  try {
    const admin = await adminConnection();
    teardown.defer('close the admin connection', () => admin.end());
    const facts = await serverFacts(admin);
    const database = benchDatabaseName();
    await createDatabase(admin, database);
    teardown.defer(`drop database ${database}`, () => dropDatabase(admin, database));
    progress(`database ${database}; ${opts.durationMs} ms per scenario, ${opts.messageBytes}-byte messages`);

    const measureEnv = {
      admin,
      dbPid: findPidByName(['mariadbd', 'mysqld']),
      settleMs: opts.settleMs,
      profileDir: opts.profile ? path.join(outDir, `profiles-${stamp}`) : undefined,
    };
    const suite = await runSuite(opts, measureEnv, database);
    errors.push(...suite.errors);
    const peers = await runPeers(opts);
    errors.push(...peers.errors);
    errors.push(...(await teardown.run()));

    const report: BenchReport = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options: opts,
      machine: machineInfo(facts),
      database,
      busyBeforeStartCores,
      brokerConfig: suite.brokerConfig,
      brokerPeakRssMb: suite.brokerPeakRssMb,
      ceilingPeakRssMb: suite.ceilingPeakRssMb,
      brokerWarnings: suite.brokerWarnings,
      scenarios: suite.scenarios,
      checks: [...targetChecks(suite.scenarios), ...peerChecks(suite.scenarios, peers.results)],
      peers: peers.results,
      errors,
    };
    console.log(formatReport(report));
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `bench-${stamp}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    console.log(`\nJSON report: ${path.relative(process.cwd(), file)}`);
    const broken = suite.scenarios.filter((s) => s.error !== undefined).length;
    return errors.length > 0 || broken > 0 ? 1 : 0;
  } catch (err) {
    errors.push(errorMessage(err));
    errors.push(...(await teardown.run()));
    console.error(`bench: harness failed:\n  ${errors.join('\n  ')}`);
    return 1;
  }
}

/** `--scale`: the scale scenario alone, its table and its JSON report. */
async function scaleMain(size: ScaleSize, outDir: string, stamp: string, teardown: Teardown): Promise<number> {
  try {
    const admin = await adminConnection();
    teardown.defer('close the admin connection', () => admin.end());
    const database = benchDatabaseName();
    await createDatabase(admin, database);
    teardown.defer(`drop database ${database}`, () => dropDatabase(admin, database));
    const facts = await serverFacts(admin);
    const report = await runScale(size, admin, database, findPidByName(['mariadbd', 'mysqld']));
    const errors = await teardown.run();
    console.log(formatScale(report));
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `scale-${stamp}.json`);
    writeFileSync(file, JSON.stringify({ ...report, machine: machineInfo(facts), errors }, null, 2) + '\n');
    console.log(`\nJSON report: ${path.relative(process.cwd(), file)}`);
    return errors.length > 0 ? 1 : 0;
  } catch (err) {
    const errors = await teardown.run();
    console.error(`bench --scale failed:\n  ${[errorMessage(err), ...errors].join('\n  ')}`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; if a handle still holds the process, say which and exit anyway.
    setTimeout(() => {
      console.error(`bench: handles still open 5 s after the end: ${process.getActiveResourcesInfo().join(', ')}`);
      process.exit(code);
    }, 5000).unref();
  },
  (err: unknown) => {
    // Bad flags land here (with the usage text in the message); a stack would only hide it.
    console.error(`bench: ${errorMessage(err)}`);
    process.exit(1);
  },
);
