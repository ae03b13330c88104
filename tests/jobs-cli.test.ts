import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { JOB_NAMES } from '../shared/jobs/names';
import { childEnv, spawnTs } from './helpers/jobs';

const root = path.join(__dirname, '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'tablemq-jobs-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function runNode(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tablemq-jobs, the operators\' command', () => {
  test('--help prints the usage with every job and exits 0', async () => {
    const child = spawnTs('portal-jobs/main.ts', ['--help'], childEnv({}));
    assert.equal(await child.exited, 0);
    assert.match(child.stdout(), /usage: tablemq-jobs/);
    for (const job of JOB_NAMES) assert.match(child.stdout(), new RegExp(`\\b${job}\\b`));
  });

  test('is the package\'s bin, and neither it nor `npm run jobs` builds', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    assert.equal(pkg.bin['tablemq-jobs'], 'bin/tablemq-jobs.js');
    assert.doesNotMatch(pkg.scripts.jobs!, /build|tsc/);
    // It loads node:fs, node:path and the built entry point, and starts no other process.
    const required = [...readFileSync(path.join(root, 'bin', 'tablemq-jobs.js'), 'utf8').matchAll(/require\(([^)]*)\)/g)].map((m) => m[1]);
    assert.deepEqual(required, ["'node:fs'", "'node:path'", 'entry']);
  });

  test('runs dist/portal-jobs/main.js as it is, with the arguments given, and says what to do when dist/ is missing', async () => {
    // A copy of the bin beside a stand-in dist/, so the test needs no build of its own.
    mkdirSync(path.join(scratch, 'bin'));
    const bin = path.join(scratch, 'bin', 'tablemq-jobs.js');
    copyFileSync(path.join(root, 'bin', 'tablemq-jobs.js'), bin);
    const missing = await runNode(bin, ['run', 'clean-history']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /dist\/portal-jobs\/main\.js does not exist; build once with `npm run build`/);

    mkdirSync(path.join(scratch, 'dist', 'portal-jobs'), { recursive: true });
    writeFileSync(path.join(scratch, 'dist', 'portal-jobs', 'main.js'), "process.stdout.write(JSON.stringify(process.argv.slice(2))); process.exitCode = 7;\n");
    const ran = await runNode(bin, ['run', 'clean-history']);
    assert.equal(ran.code, 7);
    assert.deepEqual(JSON.parse(ran.stdout), ['run', 'clean-history']);
  });
});
