import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { startLocalServerIfNeeded } from '../launcher/local-mysql';

/*
 * npm start's private database server, on an address where nothing answers (a free port stands in
 * for the default 127.0.0.1:3306, which the shared test server occupies here).
 */

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tmq-local-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('npm start without a database', () => {
  test('starts a private server with its data under the given folder, says so, and stops it', async () => {
    const port = await freePort();
    const url = `mysql://root@127.0.0.1:${port}/tablemq`;
    const notices: string[] = [];
    const server = await startLocalServerIfNeeded({}, { dir, url, say: (t) => notices.push(t) });
    assert.ok(server, 'a server was started');
    try {
      assert.equal(server.dataDir, join(dir, 'mysql-data'));
      assert.ok(notices.some((n) => n.includes('PRIVATE') && n.includes(server.dataDir)), notices.join('\n'));
      const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '' });
      const [rows] = await conn.query('SELECT VERSION() AS v');
      assert.match((rows as { v: string }[])[0]!.v, /\d+\.\d+/);
      await conn.end();
    } finally {
      await server.stop();
    }
    await assert.rejects(mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', connectTimeout: 1_000 }), 'stopped');
  });

  test('does nothing when TABLEMQ_MYSQL_URL is set or the default address answers', async () => {
    const port = await freePort();
    const say = () => assert.fail('nothing to say');
    assert.equal(await startLocalServerIfNeeded({ TABLEMQ_MYSQL_URL: `mysql://root@127.0.0.1:${port}/x` }, { dir, url: `mysql://root@127.0.0.1:${port}/x`, say }), undefined);
    const listener = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    try {
      assert.equal(await startLocalServerIfNeeded({}, { dir, url: `mysql://root@127.0.0.1:${port}/x`, say }), undefined);
    } finally {
      listener.close();
    }
  });
});
