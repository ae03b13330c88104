/**
 * PgQ (Skype's queue, extension `pgq` from Debian's postgresql-15-pgq3): events are rows appended by
 * `pgq.insert_event`; a ticker cuts them into batches that a consumer reads with next_batch /
 * get_batch_events / finish_batch. There is no pgqd daemon here, so this file runs the ticker itself.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Client, Pool } from 'pg';
import {
  BATCH_PRODUCERS,
  BATCH_SIZE,
  decodeBody,
  errorMessage,
  guardPeer,
  makeBody,
  maxMessagesPerScenario,
  SETUP_TIMEOUT_MS,
  SINGLE_PRODUCERS,
  sleep,
  warmPool,
  withTimeout,
} from './common';
import { closedLoop, drain } from './load';
import { connect, dropDatabase, loadPg, pgConfig, pgDurability, recreateDatabase } from './postgres';
import type { PeerOptions, PeerResult } from './types';

const DATABASE = 'tablemq_bench_pgq';
const QUEUE = 'bench';
const CONSUMER = 'bench_consumer';

/** How often the ticker checks the queue (pgqd's role). */
const TICK_PERIOD_MS = 20;
/**
 * PgQ's default ticker_max_lag is 3 s: the last < ticker_max_count (500) events of the backlog would sit
 * unbatched for up to 3 s and the drain would mostly measure that wait. A low-latency setting instead.
 */
const TICKER_MAX_LAG = '50 milliseconds';

/**
 * Calls pgq.ticker() in a loop on its own connection, one call at a time: PgQ warns that concurrent
 * ticker calls are unsafe. Runs for the whole benchmark, as pgqd would, so the backlog is cut into
 * batches of ~ticker_max_count events while it is produced instead of into one giant batch later.
 */
class TickerLoop {
  private stopped = false;
  private failure: unknown;
  private readonly done: Promise<void>;

  constructor(private readonly client: Client) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.client.query('SELECT pgq.ticker()');
      } catch (err) {
        this.failure = err;
        return;
      }
      await sleep(TICK_PERIOD_MS);
    }
  }

  /** Throws the ticker's failure, if any, so a dead ticker does not pass for a slow consumer. */
  check(): void {
    if (this.failure !== undefined) throw new Error(`pgq.ticker() failed: ${errorMessage(this.failure)}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

const APT_TIMEOUT_MS = 300_000;

/**
 * Installs Debian's PgQ package for the server's major version when the extension is missing and
 * this process may do so (root, apt-get present): the issue allows the bench setup to install it.
 * Returns why it did not, or null when the package was installed.
 */
async function aptInstallPgq(major: string): Promise<string | null> {
  const pkg = `postgresql-${major}-pgq3`;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return `apt-get install -y ${pkg} (as root) installs it`;
  try {
    await promisify(execFile)('apt-get', ['install', '-y', '-q', pkg], { timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return null;
  } catch (err) {
    return `apt-get install -y ${pkg} failed: ${errorMessage(err).split('\n')[0]}`;
  }
}

async function installPgq(client: Client): Promise<void> {
  const isAvailable = async () => ((await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pgq'")).rowCount ?? 0) > 0;
  if (!(await isAvailable())) {
    const version = await client.query<{ major: string }>(
      "SELECT (current_setting('server_version_num')::int / 10000)::text AS major",
    );
    const why = await aptInstallPgq(version.rows[0]?.major ?? '15');
    if (why !== null || !(await isAvailable())) throw new Error(`PgQ extension is not installed on the server (${why ?? 'the package did not provide it'})`);
  }
  await client.query('CREATE EXTENSION pgq');
  await client.query('SELECT pgq.create_queue($1)', [QUEUE]);
  await client.query("SELECT pgq.set_queue_config($1, 'ticker_max_lag', $2)", [QUEUE, TICKER_MAX_LAG]);
  // Registered before producing: a consumer only sees events after the tick it registered at.
  await client.query('SELECT pgq.register_consumer($1, $2)', [QUEUE, CONSUMER]);
}

/** One consume round: take the next batch, read all its events, close it. Returns the events acked. */
async function consumeBatch(client: Client): Promise<number> {
  const next = await client.query<{ batch_id: string | null }>('SELECT pgq.next_batch($1, $2) AS batch_id', [
    QUEUE,
    CONSUMER,
  ]);
  const batchId = next.rows[0]?.batch_id ?? null;
  if (batchId === null) return 0;
  const events = await client.query<{ ev_data: string }>('SELECT ev_id, ev_data FROM pgq.get_batch_events($1)', [batchId]);
  // Decoded, as every consumer must before it can use a message (tablemq's and BullMQ's clients
  // hand out bodies already decoded; see common.ts decodeBody).
  for (const e of events.rows) decodeBody(e.ev_data);
  await client.query('SELECT pgq.finish_batch($1)', [batchId]);
  return events.rowCount ?? 0;
}

export async function run(opts: PeerOptions): Promise<PeerResult> {
  const initial: PeerResult = { peer: 'PgQ', durability: 'PostgreSQL (settings not read: setup failed)' };
  return guardPeer(initial, async (result, cleanup) => {
    const pg = await loadPg();
    await withTimeout(recreateDatabase(pg, DATABASE), SETUP_TIMEOUT_MS, 'create database');
    cleanup.defer('drop database', () => dropDatabase(pg, DATABASE));

    const admin = await connect(pg, DATABASE);
    cleanup.defer('close setup connection', () => admin.end());
    result.durability = `event rows in logged tables; ${await pgDurability(admin)}`;
    await installPgq(admin);

    const tickerClient = await connect(pg, DATABASE);
    cleanup.defer('close ticker connection', () => tickerClient.end());
    const ticker = new TickerLoop(tickerClient);
    cleanup.defer('stop ticker', () => ticker.stop());

    const pool: Pool = new pg.Pool({ ...pgConfig(DATABASE), max: SINGLE_PRODUCERS });
    pool.on('error', () => undefined); // idle-client errors surface on the next query instead
    cleanup.defer('close producer pool', () => pool.end());
    await warmPool(SINGLE_PRODUCERS, () => pool.query('SELECT pg_sleep(0.02)'));

    const body = makeBody(opts.messageBytes);
    const maxMessages = maxMessagesPerScenario(opts.messageBytes);

    result.singleX16 = await closedLoop(
      {
        producers: SINGLE_PRODUCERS,
        msgsPerCall: 1,
        durationMs: opts.durationMs,
        maxMessages,
        call: async () => {
          await pool.query("SELECT pgq.insert_event($1, 'msg', $2)", [QUEUE, body]);
        },
      },
      'PgQ singleX16',
    );
    ticker.check();

    // One statement (so one transaction) inserting 100 events, each body sent over the wire like the other peers.
    const bodies = Array.from({ length: BATCH_SIZE }, () => body);
    result.batch100X4 = await closedLoop(
      {
        producers: BATCH_PRODUCERS,
        msgsPerCall: BATCH_SIZE,
        durationMs: opts.durationMs,
        maxMessages,
        call: async () => {
          await pool.query("SELECT pgq.insert_event($1, 'msg', d) FROM unnest($2::text[]) AS d", [QUEUE, bodies]);
        },
      },
      'PgQ batch100X4',
    );
    ticker.check();

    const consumer = await connect(pg, DATABASE);
    cleanup.defer('close consumer connection', () => consumer.end());
    result.consume = await drain(
      {
        durationMs: opts.durationMs,
        target: result.singleX16.messages + result.batch100X4.messages,
        idleMs: 2,
        step: async () => {
          ticker.check();
          return consumeBatch(consumer);
        },
      },
      'PgQ consume',
    );
  });
}

export default run;
