import { spawn, type ChildProcess } from 'node:child_process';
import type { Config } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createPortalJobs, type PortalJobs } from '../../portal-jobs/app';
import { TEST_ADMIN_TOKEN, testConfig } from './broker';

process.env.TABLEMQ_LOG_SILENT ??= '1';

/** A portal-jobs instance in this process against a test database (no jobs scheduled until started). */
export async function startTestJobs(mysqlUrl: string, overrides: Partial<Config> = {}): Promise<PortalJobs> {
  return createPortalJobs(testConfig(mysqlUrl, overrides), createLogger('error', 'test-jobs'));
}

/** Environment for a portal-jobs (or broker) child process: TABLEMQ_* over a clean copy of ours. */
export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TABLEMQ_')) delete env[key];
  // The child's JSON log lines are what the tests read.
  // Port 0: parallel test files each get a free port for portal-jobs' /metrics. The admin token: a
  // broker child with auth on would otherwise create an admin token file in the working directory.
  return { ...env, TABLEMQ_LOG_SILENT: '0', TABLEMQ_LOG_LEVEL: 'info', TABLEMQ_JOBS_PORT: '0', TABLEMQ_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...vars };
}

export interface Child {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
}

/** Spawns a TypeScript entry point of this repo under tsx, collecting its output. */
export function spawnTs(entry: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { process: child, stdout: () => out, stderr: () => err, exited };
}
