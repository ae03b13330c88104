/**
 * Run by `npm run bench` before anything else: the benchmark's own packages (the peers' clients,
 * undici) live in bench/package.json, outside the product's install, and are installed once with
 * `npm run bench:install`. Without them, say so instead of failing on the first missing import.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(path.join(__dirname, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const missing = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter((name) => !existsSync(path.join(__dirname, 'node_modules', name, 'package.json')));
if (missing.length > 0) {
  process.stderr.write(`bench: not installed: ${missing.join(', ')}; run \`npm run bench:install\` once (installs bench/package-lock.json into bench/node_modules)\n`);
  process.exit(2);
}
