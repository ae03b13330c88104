import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG, envName, type Config } from '../shared/config';

test('every configuration key is documented in the README with its environment variable and default', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| '));
  const missing: string[] = [];
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof Config)[]) {
    const row = rows.find((r) => r.includes(`\`${envName(key)}\``));
    if (!row) {
      missing.push(`${key}: no row for ${envName(key)}`);
      continue;
    }
    if (!row.includes(`\`${String(DEFAULT_CONFIG[key])}\``)) missing.push(`${key}: default ${String(DEFAULT_CONFIG[key])} not shown`);
  }
  assert.deepEqual(missing, []);
});
