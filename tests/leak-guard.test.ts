import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MYSQL } from './helpers/db';

/** Runs one test file the way `npm test` runs them, and returns its exit code and output. */
async function runTestFile(file: string): Promise<{ code: number | null; output: string }> {
  const guard = join(__dirname, 'helpers', 'leak-guard.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', guard, '--test', '--test-force-exit', file], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, NODE_TEST_CONTEXT: undefined },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

/** A test file whose one test runs `body` (after imports of node:net as net, mysql2/promise as mysql). */
function testFile(body: string): string {
  return `import { test } from 'node:test';\nimport net from 'node:net';\nimport mysql from 'mysql2/promise';\ntest('t', async () => { ${body} });\n`;
}

const LEAKS: Record<string, string> = {
  'a listening server': `const s = net.createServer(); s.listen(0, '127.0.0.1'); await new Promise((r) => s.once('listening', r));`,
  'a timer': 'setInterval(() => undefined, 60_000);',
  'a pool connection': `const pool = mysql.createPool(${JSON.stringify(MYSQL)}); await pool.query('SELECT 1');`,
};

let dir: string;
before(async () => {
  // Inside node_modules, so that the files resolve mysql2 as the suite does.
  dir = await mkdtemp(join(__dirname, '..', 'node_modules', '.tmq-leak-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('leak guard', () => {
  for (const [what, code] of Object.entries(LEAKS)) {
    test(`a test file that leaves ${what} open fails, naming it`, async () => {
      const file = join(dir, `${what.replaceAll(' ', '-')}.test.mjs`);
      await writeFile(file, testFile(code));
      const { code: exit, output } = await runTestFile(file);
      assert.notEqual(exit, 0, output);
      assert.match(output, /leak guard: the test file left open/);
    });
  }

  test('a test file that closes what it opened passes', async () => {
    const file = join(dir, 'clean.test.mjs');
    await writeFile(
      file,
      testFile(
        `const pool = mysql.createPool(${JSON.stringify(MYSQL)}); await pool.query('SELECT 1'); await pool.end(); ` +
          `const s = net.createServer(); s.listen(0, '127.0.0.1'); await new Promise((r) => s.once('listening', r)); await new Promise((r) => s.close(r)); ` +
          'clearInterval(setInterval(() => undefined, 60_000));',
      ),
    );
    const { code, output } = await runTestFile(file);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /leak guard/);
  });
});
