import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, envName, type Config } from '../shared/config';

/*
 * `docker compose config` can't run here; these checks keep docker-compose.yml and the Dockerfile
 * in step with the code instead: what they name must exist.
 */

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const dockerfile = readFileSync('Dockerfile', 'utf8');
const buildIncludes = (JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { include: string[] }).include;
const knownEnv = new Set((Object.keys(DEFAULT_CONFIG) as (keyof Config)[]).map(envName));

describe('deployment files', () => {
  test('docker-compose.yml: a MySQL service, brokers and portal-jobs built from this directory, with known TABLEMQ_* keys', () => {
    const services = Object.entries(compose.services);
    assert.ok(compose.services.mysql?.image?.startsWith('mysql:'), 'a MySQL service');
    const built = services.filter(([, s]) => s.build !== undefined);
    assert.ok(built.length >= 3, 'brokers and portal-jobs');
    for (const [name, s] of built) {
      const context = typeof s.build === 'string' ? s.build : s.build!.context;
      assert.ok(existsSync(`${context}/Dockerfile`), `${name}: build context ${context} has a Dockerfile`);
      for (const key of Object.keys(s.environment ?? {})) assert.ok(knownEnv.has(key), `${name}: ${key} is not a config key`);
      assert.match(s.environment?.TABLEMQ_MYSQL_URL ?? '', /^mysql:\/\/[^@]+@mysql:3306\/\w+$/, `${name} reaches the mysql service`);
      assert.equal(s.depends_on?.mysql?.condition, 'service_healthy', `${name} waits for MySQL`);
      const entry = s.command ? s.command[s.command.length - 1]! : /^CMD \["node", "([^"]+)"\]/m.exec(dockerfile)?.[1];
      assert.ok(entry, `${name}: an entry point`);
      const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      assert.ok(existsSync(source), `${name}: ${entry} is built from ${source}, which exists`);
    }
    const jobs = built.filter(([, s]) => s.command?.some((c) => c.includes('portal-jobs')));
    assert.equal(jobs.length, 1, 'one portal-jobs service');
  });

  test('the Dockerfile copies every folder the build compiles', () => {
    for (const folder of buildIncludes) assert.match(dockerfile, new RegExp(`^COPY ${folder} ${folder}$`, 'm'), `COPY ${folder} ${folder}`);
  });
});
