import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertLeaseIfAbsent } from '../shared/metadata/jobs';
import { apiClient, createTopic, produce, startTestBroker, uniqueName, type TestBroker } from './helpers/broker';
import { freshDatabase } from './helpers/db';
import { childEnv, spawnTs, type Child } from './helpers/jobs';
import { waitFor } from './helpers/wait';

/*
 * portal-jobs as operators run it: real processes started with TABLEMQ_* environment variables.
 */

let t: TestBroker;
const children: Child[] = [];
before(async () => {
  t = await startTestBroker('jobs_process');
});
after(async () => {
  for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await t?.close();
});

function portalJobs(args: string[], vars: Record<string, string> = {}): Child {
  const child = spawnTs('portal-jobs/main.ts', args, childEnv({ TABLEMQ_MYSQL_URL: t.database.url, ...vars }));
  children.push(child);
  return child;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The "portal-jobs started" log line of a child, once it was printed. */
function startedLine(child: Child): { holder: string } | undefined {
  const line = child.stdout().split('\n').find((l) => l.includes('"message":"portal-jobs started"'));
  return line === undefined ? undefined : (JSON.parse(line) as { holder: string });
}

/** Holders are host:pid:random. */
const pidOf = (holder: string) => Number(holder.split(':').at(-2));

interface RunRow {
  id: number;
  holder: string;
  status: string;
  started_at: Date;
  scheduled_for: Date | null;
  detail: string | null;
}

describe('portal-jobs run <job>', () => {
  test('`run clean-history` removes exactly the messages past retention, in batches, records the count and exits 0', async () => {
    const topic = await createTopic(t.api, uniqueName('week'), 1, { retentionHours: 168 });
    const table = topic.queues[0]!.table;
    await produce(t.api, topic.name, range(1, 10).map((i) => ({ body: i })));
    await t.sql.rows(`UPDATE \`${table}\` SET created_at = NOW(3) - INTERVAL 8 DAY WHERE id <= 6`);
    await t.sql.rows(`UPDATE \`${table}\` SET created_at = NOW(3) - INTERVAL 6 DAY WHERE id > 6`);

    const child = portalJobs(['run', 'clean-history'], { TABLEMQ_CLEANUP_BATCH_SIZE: '2' });
    assert.equal(await child.exited, 0, child.stderr());
    const left = await t.sql.rows<{ id: number }>(`SELECT id FROM \`${table}\` ORDER BY id`);
    assert.deepEqual(left.map((r) => Number(r.id)), range(7, 10));
    const [run] = await t.sql.rows<RunRow>("SELECT * FROM job_run WHERE job = 'clean-history' ORDER BY id DESC LIMIT 1");
    assert.equal(run?.status, 'succeeded');
    const counts = (JSON.parse(run.detail!) as { counts: Record<string, number> }).counts;
    assert.equal(counts.deleted, 6);
    assert.equal(counts.batches, 3);
    assert.match(child.stdout(), /"message":"job run succeeded"/);
  });

  test('`run` does not run a job whose lease another instance holds, and exits 3', async () => {
    assert.ok(await insertLeaseIfAbsent(t.broker.ctx.db, 'expire-consumers', 'busy-host:7:abcdef', 60_000));
    const child = portalJobs(['run', 'expire-consumers']);
    assert.equal(await child.exited, 3);
    assert.match(child.stderr(), /expire-consumers not run: its lease is held by busy-host:7:abcdef/);
    assert.equal(await t.sql.count('job_run', "job = 'expire-consumers'"), 0);
    await t.sql.rows("DELETE FROM job_lease WHERE job = 'expire-consumers'");
  });

  test('an expire-consumers run that expires nobody logs its end at debug, not info', async () => {
    const quiet = portalJobs(['run', 'expire-consumers']);
    assert.equal(await quiet.exited, 0, quiet.stderr());
    const [run] = await t.sql.rows<RunRow>("SELECT * FROM job_run WHERE job = 'expire-consumers' ORDER BY id DESC LIMIT 1");
    assert.equal(run?.status, 'succeeded');
    assert.equal((JSON.parse(run.detail!) as { counts: Record<string, number> }).counts.expiredConsumers, 0);
    assert.doesNotMatch(quiet.stdout(), /"message":"job run succeeded"/);
    const verbose = portalJobs(['run', 'expire-consumers'], { TABLEMQ_LOG_LEVEL: 'debug' });
    assert.equal(await verbose.exited, 0, verbose.stderr());
    assert.match(verbose.stdout(), /"message":"job run succeeded"/);
  });

  test('SIGTERM stops a run by hand at its next batch: recorded as failed, lease released, exit 1', async () => {
    const topic = await createTopic(t.api, uniqueName('interrupted'), 1, { retentionHours: 1 });
    const table = topic.queues[0]!.table;
    await t.sql.rows(`INSERT INTO \`${table}\` (body, created_at) VALUES ${range(1, 200).map(() => "('1', NOW(3) - INTERVAL 2 HOUR)").join(',')}`);
    const child = portalJobs(['run', 'clean-history'], { TABLEMQ_CLEANUP_BATCH_SIZE: '2', TABLEMQ_CLEANUP_PAUSE_MS: '50' });
    const running = await waitFor('the run to start', async () => {
      const [row] = await t.sql.rows<RunRow>("SELECT * FROM job_run WHERE job = 'clean-history' AND status = 'running'");
      return row;
    }, 60_000); // a process start under tsx takes many seconds on a loaded machine
    child.process.kill('SIGTERM');
    assert.equal(await child.exited, 1);
    const [row] = await t.sql.rows<RunRow>('SELECT * FROM job_run WHERE id = ?', [running.id]);
    assert.equal(row?.status, 'failed');
    assert.match(row?.detail ?? '', /portal-jobs is stopping/);
    const [lease] = await t.sql.rows<{ held: number }>("SELECT expires_at > NOW(3) AS held FROM job_lease WHERE job = 'clean-history'");
    assert.equal(Number(lease?.held), 0, 'released, not left to expire');
    assert.ok((await t.sql.count(table)) > 0, 'it stopped before the end');
    await t.sql.rows(`DELETE FROM \`${table}\``);
  });

  test('an unknown job, a bad cron expression or a bad flag exits 2 naming the problem', async () => {
    const unknown = portalJobs(['run', 'clean-everything']);
    assert.equal(await unknown.exited, 2);
    assert.match(unknown.stderr(), /unknown job "clean-everything"/);
    const cron = portalJobs([], { TABLEMQ_JOBS_EXPIRE_CONSUMERS_CRON: '*/10 * * * * * *' });
    assert.equal(await cron.exited, 2);
    assert.match(cron.stderr(), /TABLEMQ_JOBS_EXPIRE_CONSUMERS_CRON/);
    const flag = portalJobs([], { TABLEMQ_JOBS_CLEAN_HISTORY_ENABLED: 'yes' });
    assert.equal(await flag.exited, 2);
    assert.match(flag.stderr(), /TABLEMQ_JOBS_CLEAN_HISTORY_ENABLED/);
  });
});

describe('two portal-jobs processes', () => {
  test('each tick runs once; when the lease holder is killed mid-run the other takes over after the lease expires', async () => {
    const leaseMs = 1_500;
    const topic = await createTopic(t.api, uniqueName('takeover'), 1, { retentionHours: 1 });
    const table = topic.queues[0]!.table;
    const rows = 800;
    await t.sql.rows(
      `INSERT INTO \`${table}\` (body, created_at) VALUES ${range(1, rows).map(() => "('\"old\"', NOW(3) - INTERVAL 2 HOUR)").join(',')}`,
    );
    await t.sql.rows('DELETE FROM job_run');
    // Batches of 5 with 50 ms pauses: the run lasts several seconds, long enough to kill it midway.
    const vars = {
      TABLEMQ_JOBS_CLEAN_HISTORY_CRON: '* * * * * *',
      TABLEMQ_JOBS_EXPIRE_CONSUMERS_CRON: '* * * * * *',
      TABLEMQ_JOB_LEASE_MS: String(leaseMs),
      TABLEMQ_CLEANUP_BATCH_SIZE: '5',
      TABLEMQ_CLEANUP_PAUSE_MS: '50',
    };
    const pair = [portalJobs([], vars), portalJobs([], vars)];
    const holders = await Promise.all(pair.map((c) => waitFor('portal-jobs to start', async () => startedLine(c)?.holder, 20_000)));
    // expire-consumers runs every second; a run that expired nobody is counted on its lease row
    // (idle_runs), one that did something writes a job_run row: together, the ticks that ran.
    const ticksRun = async () => {
      const [lease] = await t.sql.rows<{ idle_runs: number }>("SELECT idle_runs FROM job_lease WHERE job = 'expire-consumers'");
      return Number(lease?.idle_runs ?? 0) + (await t.sql.count('job_run', "job = 'expire-consumers' AND triggered_by = 'schedule'"));
    };
    const [{ now: bothUp }] = (await t.sql.rows<{ now: Date }>('SELECT NOW(3) AS now')) as [{ now: Date }];
    const ticksBefore = await ticksRun();
    // Let both run the every-second job side by side for a few ticks.
    await waitFor('three ticks with both instances up', async () => (await ticksRun()) - ticksBefore >= 3);
    const [{ now: bothAliveUntil }] = (await t.sql.rows<{ now: Date }>('SELECT NOW(3) AS now')) as [{ now: Date }];
    const ticksWhileBoth = (await ticksRun()) - ticksBefore;

    const running = await waitFor('a clean-history run in progress', async () => {
      const [row] = await t.sql.rows<RunRow>("SELECT * FROM job_run WHERE job = 'clean-history' AND status = 'running'");
      return row;
    });
    const victimIndex = holders.indexOf(running.holder);
    assert.ok(victimIndex >= 0, `${running.holder} is one of ${holders.join(', ')}`);
    const victim = pair[victimIndex]!;
    const survivor = pair[1 - victimIndex]!;
    victim.process.kill('SIGKILL');
    await victim.exited;
    const [lease] = await t.sql.rows<{ holder: string; expires_at: Date }>("SELECT holder, expires_at FROM job_lease WHERE job = 'clean-history'");
    assert.equal(lease?.holder, running.holder, 'the dead process still holds the lease');
    assert.ok(await t.sql.count(table) > 0, 'killed before it finished');

    const takeover = await waitFor(
      'the survivor to finish clean-history',
      async () => {
        const [row] = await t.sql.rows<RunRow>(
          "SELECT * FROM job_run WHERE job = 'clean-history' AND holder = ? AND status = 'succeeded' AND id > ? ORDER BY id LIMIT 1",
          [holders[1 - victimIndex], running.id],
        );
        return row;
      },
      20_000,
    );
    assert.ok(takeover.started_at.getTime() >= lease.expires_at.getTime(), 'not before the dead holder\'s lease expired');
    assert.equal(await t.sql.count(table), 0, 'the survivor finished the cleanup');
    const [abandoned] = await t.sql.rows<RunRow>('SELECT * FROM job_run WHERE id = ?', [running.id]);
    assert.equal(abandoned?.status, 'failed');
    assert.match(abandoned?.detail ?? '', /abandoned/);

    // While both were up, every tick of the every-second job ran on exactly one of them: no more
    // runs than seconds passed (both running each tick would make it about twice that).
    const seconds = Math.ceil((bothAliveUntil.getTime() - bothUp.getTime()) / 1000);
    assert.ok(ticksWhileBoth >= 3 && ticksWhileBoth <= seconds + 1, `${ticksWhileBoth} runs in ${seconds} s while both ran`);

    survivor.process.kill('SIGTERM');
    assert.equal(await survivor.exited, 0);
    assert.match(survivor.stdout(), /"message":"portal-jobs stopped"/);
  });
});

describe('npm start', () => {
  test('the launcher runs the broker and portal-jobs together and stops both on SIGTERM', async () => {
    const fresh = await freshDatabase('jobs_launcher');
    try {
      const launcher = spawnTs('launcher/main.ts', [], childEnv({ TABLEMQ_MYSQL_URL: fresh.url, TABLEMQ_PORT: '0', TABLEMQ_HOST: '127.0.0.1' }));
      children.push(launcher);
      const port = await waitFor('the broker to listen', async () => Number(/"message":"broker listening","port":(\d+)/.exec(launcher.stdout())?.[1] ?? 0) || undefined, 60_000);
      await waitFor('portal-jobs to start', async () => /"message":"portal-jobs started"/.test(launcher.stdout()), 60_000);
      const jobs = await apiClient(`http://127.0.0.1:${port}`).get('/api/v1/admin/jobs');
      assert.equal(jobs.status, 200);
      launcher.process.kill('SIGTERM');
      assert.equal(await launcher.exited, 0);
      assert.match(launcher.stdout(), /"message":"broker stopped"/);
      assert.match(launcher.stdout(), /"message":"portal-jobs stopped"/);
    } finally {
      await fresh.drop();
    }
  });

  test('when one of the two dies, the launcher stops the other and exits non-zero', async () => {
    const fresh = await freshDatabase('jobs_launcher2');
    try {
      const launcher = spawnTs('launcher/main.ts', [], childEnv({ TABLEMQ_MYSQL_URL: fresh.url, TABLEMQ_PORT: '0', TABLEMQ_HOST: '127.0.0.1' }));
      children.push(launcher);
      await waitFor('the broker to listen', async () => /"message":"broker listening"/.test(launcher.stdout()), 60_000);
      const holder = await waitFor('portal-jobs to start', async () => startedLine(launcher)?.holder, 60_000);
      process.kill(pidOf(holder), 'SIGKILL');
      assert.equal(await launcher.exited, 1);
      assert.match(launcher.stdout(), /"message":"broker stopped"/);
      assert.match(launcher.stderr(), /portal-jobs exited \(SIGKILL\)/);
    } finally {
      await fresh.drop();
    }
  });
});

describe('a job that fails', () => {
  test('`run clean-history` exits 1 and records the failure when a queue\'s node is unreachable, after cleaning the others', async () => {
    const ok = await createTopic(t.api, uniqueName('reachable'), 1, { retentionHours: 1 });
    await produce(t.api, ok.name, [{ body: 1 }]);
    await t.sql.rows(`UPDATE \`${ok.queues[0]!.table}\` SET created_at = NOW(3) - INTERVAL 2 HOUR`);
    // A node nobody listens on (port 1), holding one queue of a topic.
    await t.sql.rows("INSERT INTO db_node (name, host, port, database_name, user) VALUES ('gone', '127.0.0.1', 1, 'gone', 'root')");
    const nodeId = (await t.sql.rows<{ id: number }>("SELECT id FROM db_node WHERE name = 'gone'"))[0]!.id;
    await t.sql.rows("INSERT INTO topic (name, retention_hours, max_message_bytes) VALUES ('on-gone-node', 1, 1000)");
    const topicId = (await t.sql.rows<{ id: number }>("SELECT id FROM topic WHERE name = 'on-gone-node'"))[0]!.id;
    await t.sql.rows("INSERT INTO queue (db_node_id, table_name, topic_id) VALUES (?, 'mq_999999', ?)", [nodeId, topicId]);
    try {
      const child = portalJobs(['run', 'clean-history']);
      assert.equal(await child.exited, 1, child.stderr());
      const [run] = await t.sql.rows<RunRow>("SELECT * FROM job_run WHERE job = 'clean-history' ORDER BY id DESC LIMIT 1");
      assert.equal(run?.status, 'failed');
      const detail = JSON.parse(run.detail!) as { counts: Record<string, number>; error: string };
      assert.equal(detail.counts.failedQueues, 1);
      assert.match(detail.error, /1 of \d+ queues could not be cleaned/);
      assert.equal(await t.sql.count(ok.queues[0]!.table), 0, 'the reachable queue was cleaned all the same');
      assert.match(child.stdout(), /"message":"job run failed"/);
    } finally {
      await t.sql.rows('DELETE FROM queue WHERE topic_id = ?', [topicId]);
      await t.sql.rows('DELETE FROM topic WHERE id = ?', [topicId]);
      await t.sql.rows('DELETE FROM db_node WHERE id = ?', [nodeId]);
    }
  });
});
