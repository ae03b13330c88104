import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../shared/config';
import { startBroker } from '../broker/server';
import { createLogger } from '../shared/logger';
import { startTestBroker, TEST_ADMIN_TOKEN, testConfig } from './helpers/broker';
import { freshDatabase } from './helpers/db';
import { childEnv, spawnTs } from './helpers/jobs';

// Certificates made here with the openssl CLI (node:crypto can't issue X.509): a self-signed
// server certificate for 127.0.0.1, and a CA with one client certificate for mutual TLS.
const dir = mkdtempSync(path.join(tmpdir(), 'tmq-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
openssl('req', '-x509', ...EC, '-keyout', file('server.key'), '-out', file('server.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1');
openssl('req', '-x509', ...EC, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=tablemq test CA');
openssl('req', ...EC, '-keyout', file('client.key'), '-out', file('client.csr'), '-subj', '/CN=client');
openssl('x509', '-req', '-in', file('client.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('client.pem'), '-days', '1');
writeFileSync(file('garbage.pem'), 'not a PEM file\n');

interface HttpsAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect answers field by field
  body: any;
}

/** One JSON request over HTTPS trusting only our self-signed server certificate. */
function httpsCall(port: number, method: string, urlPath: string, body?: unknown, client?: { cert: Buffer; key: Buffer }): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        ca: readFileSync(file('server.pem')),
        ...client,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(data === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('HTTPS', () => {
  test('with a certificate and key the whole API is served over TLS, and plain HTTP is refused', async () => {
    const t = await startTestBroker('tls', { tlsCertFile: file('server.pem'), tlsKeyFile: file('server.key') });
    try {
      assert.equal((await httpsCall(t.broker.port, 'GET', '/healthz')).status, 200);
      assert.equal((await httpsCall(t.broker.port, 'POST', '/api/v1/admin/topics', { name: 'secure', queues: 1 })).status, 201);
      const produced = await httpsCall(t.broker.port, 'POST', '/api/v1/topics/secure/messages', { messages: [{ body: 'over tls' }] });
      assert.equal(produced.status, 201);
      const [stored] = produced.body.results as { queueId: number; id: number }[];
      const back = await httpsCall(t.broker.port, 'GET', `/api/v1/topics/secure/queues/${stored!.queueId}/messages/${stored!.id}`);
      assert.equal(back.body.body, 'over tls');
      await assert.rejects(fetch(`http://127.0.0.1:${t.broker.port}/healthz`));
    } finally {
      await t.close();
    }
  });

  test('with a CA file, only clients holding a certificate that CA signed get in', async () => {
    const t = await startTestBroker('mtls', { tlsCertFile: file('server.pem'), tlsKeyFile: file('server.key'), tlsCaFile: file('ca.pem') });
    try {
      await assert.rejects(httpsCall(t.broker.port, 'GET', '/healthz'));
      const client = { cert: readFileSync(file('client.pem')), key: readFileSync(file('client.key')) };
      assert.equal((await httpsCall(t.broker.port, 'GET', '/api/v1/admin/apps', undefined, client)).status, 200);
    } finally {
      await t.close();
    }
  });

  test('a missing, unreadable or mismatched TLS file stops the start naming its setting', async () => {
    const database = await freshDatabase('tls_bad');
    try {
      const cases: [Record<string, string>, string][] = [
        [{ tlsCertFile: file('missing.pem'), tlsKeyFile: file('server.key') }, 'TABLEMQ_TLS_CERT_FILE'],
        [{ tlsCertFile: file('server.pem'), tlsKeyFile: file('garbage.pem') }, 'TABLEMQ_TLS_KEY_FILE'],
        [{ tlsCertFile: file('server.pem'), tlsKeyFile: file('client.key') }, 'TABLEMQ_TLS_KEY_FILE'],
        [{ tlsCertFile: file('server.pem'), tlsKeyFile: file('server.key'), tlsCaFile: file('garbage.pem') }, 'TABLEMQ_TLS_CA_FILE'],
      ];
      for (const [files, key] of cases) {
        await assert.rejects(
          startBroker(testConfig(database.url, files), createLogger('error', 'test')),
          (err: Error) => err instanceof ConfigError && err.message.includes(key),
          JSON.stringify(files),
        );
      }
      assert.throws(() => testConfig(database.url, { tlsCertFile: file('server.pem') }), (err: Error) => err instanceof ConfigError && err.message.includes('TABLEMQ_TLS_KEY_FILE'));
    } finally {
      await database.drop();
    }
  });

  test('the broker process exits 2 naming the setting of a bad TLS file', async () => {
    const child = spawnTs('broker/main.ts', [], childEnv({ TABLEMQ_PORT: '0', TABLEMQ_TLS_CERT_FILE: file('garbage.pem'), TABLEMQ_TLS_KEY_FILE: file('server.key') }));
    assert.equal(await child.exited, 2);
    assert.match(child.stderr(), /TABLEMQ_TLS_CERT_FILE/);
  });
});
