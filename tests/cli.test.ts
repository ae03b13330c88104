import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestBroker, TEST_ADMIN_TOKEN, uniqueName, type TestBroker } from './helpers/broker';

/*
 * The `tablemq` bin as a user runs it (cli/main.ts under tsx, the same code as dist/cli/main.js)
 * against a real broker.
 */

let t: TestBroker;
before(async () => {
  t = await startTestBroker('cli');
});
after(async () => {
  await t?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tablemq(args: string[], options: { stdin?: string; broker?: string; env?: Record<string, string> } = {}): Promise<Run> {
  // The test broker's admin token, as an operator would export it.
  const env: NodeJS.ProcessEnv = { ...process.env, TABLEMQ_BROKER: options.broker ?? t.api.baseUrl, TABLEMQ_TOKEN: TEST_ADMIN_TOKEN, ...options.env };
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function ok(run: Run): Run {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

describe('tablemq CLI', () => {
  test('topics create/list/get, produce from arguments and stdin, groups lag --json, and tail', async () => {
    const topic = uniqueName('cli-orders');
    const group = uniqueName('cli-billing');
    const created = ok(await tablemq(['topics', 'create', topic, '--queues', '4']));
    assert.match(created.stdout, new RegExp(`created topic ${topic} with 4 queue\\(s\\)`));
    const [list, get] = await Promise.all([tablemq(['topics', 'list', '--json']), tablemq(['topics', 'get', topic])]);
    const listed = (JSON.parse(ok(list).stdout) as { name: string; queues: unknown[] }[]).find((x) => x.name === topic);
    assert.equal(listed?.queues.length, 4);
    assert.equal(ok(get).stdout.split('\n').filter((l) => /^\d+\s+default\s+/.test(l)).length, 4, get.stdout);

    ok(await tablemq(['groups', 'create', group]));
    ok(await tablemq(['groups', 'subscribe', group, topic, '--start', 'earliest']));
    const produced = ok(await tablemq(['produce', topic, 'hi', '--key', 'k1']));
    assert.match(produced.stdout, /QUEUE\s+ID/);
    const fromStdin = ok(await tablemq(['produce', topic, '--key', 'k1'], { stdin: 'second\n\n{"n":3}\n7\n' }));
    assert.match(fromStdin.stdout, /produced 3 message\(s\)/);

    const lag = JSON.parse(ok(await tablemq(['groups', 'lag', group, '--json'])).stdout) as { totalLag: number; queues: { topic: string; lag: number }[] };
    assert.equal(lag.totalLag, 4);
    assert.equal(lag.queues.filter((q) => q.topic === topic).length, 4, 'a row per queue (and one for the retry topic)');

    // One key, one queue: tail prints the four in order and commits them for the group.
    const tail = ok(await tablemq(['tail', group, '--count', '4', '--json']));
    const bodies = tail.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { body: unknown }).body);
    assert.deepEqual(bodies, ['hi', 'second', { n: 3 }, 7]);
    const after = JSON.parse(ok(await tablemq(['groups', 'lag', group, '--json'])).stdout) as { totalLag: number };
    assert.equal(after.totalLag, 0, 'tail committed what it printed');
    const human = ok(await tablemq(['groups', 'lag', group]));
    assert.match(human.stdout, /^TOPIC\s+QUEUE\s+MAX_ID\s+COMMITTED\s+LAG\s+CONSUMER$/m);
    assert.match(human.stdout, /total lag: 0/);
  });

  test('the other commands answer: groups, nodes, messages, dead, jobs, log-level', async () => {
    const topic = uniqueName('cli-misc');
    const group = uniqueName('cli-misc-g');
    ok(await tablemq(['topics', 'create', topic, '-q', '1']));
    ok(await tablemq(['groups', 'create', group, '--max-retries', '2']));
    ok(await tablemq(['groups', 'subscribe', group, topic]));
    ok(await tablemq(['produce', topic, '{"orderId":42}', '--key', 'c7', '--tag', 'created']));
    const pause = ok(await tablemq(['groups', 'pause', group])).stdout;
    const runs = await Promise.all([
      tablemq(['groups', 'list']),
      tablemq(['groups', 'get', group, '--json']),
      tablemq(['groups', 'consumers', group]),
      tablemq(['nodes', 'list']),
      tablemq(['messages', 'find', topic, '--key', 'c7', '--json']),
      tablemq(['dead', 'list', group]),
      tablemq(['jobs']),
      tablemq(['log-level']),
      tablemq(['topics', 'expand', topic, '--queues', '1']),
    ]);
    runs.forEach(ok);
    const [list, get, consumers, nodes, find, dead, jobs, level, expand] = runs.map((r) => r.stdout);
    assert.match(pause, /paused/);
    assert.match(list!, new RegExp(`^${group}\\s+true`, 'm'));
    assert.equal((JSON.parse(get!) as { subscriptions: { topic: string }[] }).subscriptions[0]!.topic, topic);
    assert.match(consumers!, /^ID\s+NAME\s+HOST\s+ALIVE/m);
    assert.match(nodes!, /^default\s+/m);
    const found = JSON.parse(find!) as { messages: { body: unknown; tag: string }[] };
    assert.deepEqual(found.messages.map((m) => [m.body, m.tag]), [[{ orderId: 42 }, 'created']]);
    assert.match(dead!, /^TOPIC\s+QUEUE\s+ID/m);
    assert.match(jobs!, /clean-history/);
    assert.match(level!, /log level: error/);
    assert.match(expand!, /now has 2 queue\(s\)/);
    const resumed = ok(await tablemq(['groups', 'resume', group]));
    assert.match(resumed.stdout, /running/);
    const reset = JSON.parse(ok(await tablemq(['groups', 'reset', group, topic, '--to', 'earliest', '--json'])).stdout) as { offsets: { offset: number }[] };
    assert.ok(reset.offsets.every((o) => o.offset === 0));
  });

  test('exit status: 3 not found, 1 refused, 2 bad usage, 4 no broker, 0 for --help', async () => {
    const [missing, refused, badValue, unknown, noBroker, help, purgeWithoutSelection] = await Promise.all([
      tablemq(['topics', 'get', 'no-such-topic']),
      tablemq(['topics', 'create', 'bad name!', '--queues', '1']),
      tablemq(['topics', 'create', 'x', '--queues', '0']),
      tablemq(['topicz']),
      tablemq(['topics', 'list'], { broker: 'http://127.0.0.1:1' }),
      tablemq(['groups', 'reset', '--help']),
      tablemq(['dead', 'purge', 'g']),
    ]);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /TOPIC_NOT_FOUND \(404\)/);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /INVALID_NAME|VALIDATION_FAILED/);
    assert.equal(badValue.code, 2, badValue.stderr);
    assert.match(badValue.stderr, /must be a positive integer/);
    assert.equal(unknown.code, 2);
    assert.equal(noBroker.code, 4, noBroker.stderr);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--to <where>/);
    assert.equal(purgeWithoutSelection.code, 2);
  });

  test('apps and grants: an app made by the CLI produces with its token until the grant is revoked', async () => {
    const topic = uniqueName('cli-granted');
    const app = uniqueName('cli-svc');
    ok(await tablemq(['topics', 'create', topic, '-q', '1']));
    const created = JSON.parse(ok(await tablemq(['apps', 'create', app, '--grant', `produce:${topic}`, '--json'])).stdout) as { token: string };
    assert.match(created.token, /^tmq_/);
    const listed = JSON.parse(ok(await tablemq(['apps', 'list', '--json'])).stdout) as { name: string; grants: { permission: string; topic?: string }[] }[];
    assert.deepEqual(listed.find((a) => a.name === app)?.grants, [{ permission: 'produce', topic }]);
    ok(await tablemq(['produce', topic, 'allowed', '--token', created.token]));
    const elsewhere = await tablemq(['topics', 'list', '--token', created.token]);
    assert.equal(elsewhere.code, 1, 'no admin grant: refused');
    assert.match(elsewhere.stderr, /\(403\)/);
    ok(await tablemq(['grants', 'revoke', app, `produce:${topic}`]));
    assert.equal((await tablemq(['produce', topic, 'refused', '--token', created.token])).code, 1);
    ok(await tablemq(['grants', 'add', app, `produce:${topic}`]));
    ok(await tablemq(['produce', topic, 'again', '--token', created.token]));
    assert.equal((await tablemq(['grants', 'add', app, 'produce'])).code, 2, 'a grant needs its topic');
  });

  test('--token and TABLEMQ_TOKEN are sent as a bearer token', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"topics":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const broker = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      ok(await tablemq(['topics', 'list', '--token', 's3cret'], { broker, env: { TABLEMQ_TOKEN: 'not-this-one' } }));
      ok(await tablemq(['topics', 'list'], { broker, env: { TABLEMQ_TOKEN: 'from-env' } }));
      assert.deepEqual(seen, ['Bearer s3cret', 'Bearer from-env']);
    } finally {
      server.close();
    }
  });
});
