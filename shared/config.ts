import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { closest } from 'fastest-levenshtein';
import type { DbTarget } from './db/connection-options';

/**
 * One config object for broker and portal-jobs: defaults, then an optional JSON file
 * (TABLEMQ_CONFIG_FILE), then TABLEMQ_* environment variables; validated once with ajv.
 */
export interface Config {
  mysqlUrl: string;
  host: string;
  port: number;
  logLevel: LogLevel;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxRequestBytes: number;
  maxMessagesPerRequest: number;
  defaultMaxMessageBytes: number;
  defaultRetentionHours: number;
  metadataPoolSize: number;
  nodePoolSize: number;
  metadataRefreshMs: number;
  produceStatementTimeoutMs: number;
  holeGraceMs: number;
  pullDefaultMax: number;
  pullMaxMessages: number;
  pullMaxWaitMs: number;
  pullPollIntervalMs: number;
  pullMaxBytes: number;
  pullPrefetchMaxBytes: number;
  produceBatchMaxRows: number;
  produceBatchMaxBytes: number;
  produceMaxInFlightPerNode: number;
  produceReturnWaitMs: number;
  produceMaxPendingBytes: number;
  shutdownTimeoutMs: number;
  startupTimeoutMs: number;
  // portal-jobs (docs/architecture.md, "Processes")
  jobsCleanHistoryEnabled: boolean;
  jobsCleanHistoryCron: string;
  jobsExpireConsumersEnabled: boolean;
  jobsExpireConsumersCron: string;
  jobsReclaimQueuesEnabled: boolean;
  jobsReclaimQueuesCron: string;
  /**
   * How long a queue that left its topic (or stopped taking writes for a shrink) waits before
   * portal-jobs empties it (or checks the shrink): longer than any broker serves a stale catalog.
   */
  queueReleaseGraceMs: number;
  auditLogRetentionDays: number;
  jobsCheckAlarmsEnabled: boolean;
  jobsCheckAlarmsCron: string;
  /** Where alerts are POSTed as JSON; '' = logged and recorded only. */
  alertWebhookUrl: string;
  /** Warn when a writable node has fewer spare queues than this; 0 = never. */
  alertMinSpareQueues: number;
  jobLeaseMs: number;
  cleanupBatchSize: number;
  cleanupPauseMs: number;
  cleanupStatementTimeoutMs: number;
  jobRunRetentionHours: number;
  maxDelayMs: number;
  schedulerPollMs: number;
  schedulerBatchSize: number;
  metricsRefreshMs: number;
  jobsPort: number;
  // security (docs/security.md)
  auth: 'on' | 'off';
  /** When set, an app "admin" holding this token exists after start. Never logged. */
  adminToken: string;
  adminTokenFile: string;
  authCacheMs: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** When set, clients must present a certificate signed by this CA. */
  tlsCaFile: string;
  /** 32 bytes (64 hex digits or base64) that encrypt db node passwords at rest. Never logged. */
  secretKey: string;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MiB = 1024 * 1024;

export const DEFAULT_CONFIG: Config = {
  mysqlUrl: 'mysql://root@127.0.0.1:3306/tablemq',
  host: '0.0.0.0',
  port: 8080,
  logLevel: 'info',
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 5_000,
  maxRequestBytes: 16 * MiB,
  maxMessagesPerRequest: 1_000,
  defaultMaxMessageBytes: 1 * MiB,
  defaultRetentionHours: 168,
  metadataPoolSize: 10,
  nodePoolSize: 20,
  metadataRefreshMs: 2_000,
  produceStatementTimeoutMs: 5_000,
  holeGraceMs: 11_000,
  pullDefaultMax: 32,
  pullMaxMessages: 1_000,
  pullMaxWaitMs: 30_000,
  pullPollIntervalMs: 200,
  pullMaxBytes: 16 * MiB,
  pullPrefetchMaxBytes: 64 * MiB,
  produceBatchMaxRows: 1_000,
  produceBatchMaxBytes: 4 * MiB,
  produceMaxInFlightPerNode: 4,
  produceReturnWaitMs: 1,
  produceMaxPendingBytes: 256 * MiB,
  shutdownTimeoutMs: 10_000,
  startupTimeoutMs: 60_000,
  jobsCleanHistoryEnabled: true,
  jobsCleanHistoryCron: '0 * * * *',
  jobsExpireConsumersEnabled: true,
  jobsExpireConsumersCron: '*/10 * * * * *',
  jobsReclaimQueuesEnabled: true,
  jobsReclaimQueuesCron: '*/15 * * * * *',
  queueReleaseGraceMs: 60_000,
  auditLogRetentionDays: 30,
  jobsCheckAlarmsEnabled: true,
  jobsCheckAlarmsCron: '*/30 * * * * *',
  alertWebhookUrl: '',
  alertMinSpareQueues: 0,
  jobLeaseMs: 30_000,
  cleanupBatchSize: 2_000,
  cleanupPauseMs: 50,
  cleanupStatementTimeoutMs: 60_000,
  jobRunRetentionHours: 168,
  maxDelayMs: 7 * 24 * 3600 * 1000,
  schedulerPollMs: 200,
  schedulerBatchSize: 500,
  metricsRefreshMs: 5_000,
  jobsPort: 8081,
  auth: 'on',
  adminToken: '',
  adminTokenFile: '.tablemq/admin-token',
  authCacheMs: 10_000,
  tlsCertFile: '',
  tlsKeyFile: '',
  tlsCaFile: '',
  secretKey: '',
};

/** Environment variable for each key: camelCase → TABLEMQ_SNAKE_CASE. */
export function envName(key: keyof Config): string {
  return 'TABLEMQ_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

const int = (minimum: number, maximum = 2 ** 31 - 1) => ({ type: 'integer', minimum, maximum });

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(DEFAULT_CONFIG),
  properties: {
    mysqlUrl: { type: 'string', pattern: '^mysql://' },
    host: { type: 'string', minLength: 1 },
    port: int(0, 65535),
    logLevel: { enum: [...LOG_LEVELS] },
    sessionTimeoutMs: int(1_000),
    heartbeatIntervalMs: int(100),
    maxRequestBytes: int(1_024),
    maxMessagesPerRequest: int(1, 100_000),
    // MEDIUMBLOB holds 16 MiB; a message must also fit one INSERT packet.
    defaultMaxMessageBytes: int(1, 16 * MiB - 1),
    defaultRetentionHours: int(1),
    metadataPoolSize: int(1, 1_000),
    nodePoolSize: int(1, 1_000),
    metadataRefreshMs: int(100),
    produceStatementTimeoutMs: int(100),
    holeGraceMs: int(100),
    pullDefaultMax: int(1),
    pullMaxMessages: int(1, 100_000),
    pullMaxWaitMs: int(0, 300_000),
    pullPollIntervalMs: int(10, 60_000),
    pullMaxBytes: int(1),
    pullPrefetchMaxBytes: int(0),
    produceBatchMaxRows: int(1, 100_000),
    produceBatchMaxBytes: int(1_024),
    produceMaxInFlightPerNode: int(1, 64),
    // Also the most a lone request can be held by it: keep it near a client's round trip.
    produceReturnWaitMs: int(0, 50),
    produceMaxPendingBytes: int(1_024),
    shutdownTimeoutMs: int(0),
    // How long start-up waits for an unreachable metadata DB (0: one attempt).
    startupTimeoutMs: int(0, 3_600_000),
    jobsCleanHistoryEnabled: { type: 'boolean' },
    // Cron syntax is checked by portal-jobs at start (node-cron's parser); here only its shape.
    jobsCleanHistoryCron: { type: 'string', minLength: 1, maxLength: 200 },
    jobsExpireConsumersEnabled: { type: 'boolean' },
    jobsExpireConsumersCron: { type: 'string', minLength: 1, maxLength: 200 },
    jobsReclaimQueuesEnabled: { type: 'boolean' },
    jobsReclaimQueuesCron: { type: 'string', minLength: 1, maxLength: 200 },
    queueReleaseGraceMs: int(100),
    auditLogRetentionDays: int(1, 36_500),
    jobsCheckAlarmsEnabled: { type: 'boolean' },
    jobsCheckAlarmsCron: { type: 'string', minLength: 1, maxLength: 200 },
    alertWebhookUrl: { type: 'string', maxLength: 2_000, pattern: '^(https?://.+)?$' },
    alertMinSpareQueues: int(0, 100_000),
    // Renewed every third of it while a job runs; a dead holder blocks its job this long at most.
    jobLeaseMs: int(500, 3_600_000),
    cleanupBatchSize: int(1, 100_000),
    cleanupPauseMs: int(0, 60_000),
    cleanupStatementTimeoutMs: int(1_000),
    jobRunRetentionHours: int(1),
    maxDelayMs: int(0),
    schedulerPollMs: int(10, 60_000),
    schedulerBatchSize: int(1, 10_000),
    // Lag and the schedule backlog read the databases; scrapes within this reuse one read.
    metricsRefreshMs: int(0, 3_600_000),
    jobsPort: int(0, 65535),
    auth: { enum: ['on', 'off'] },
    // Empty = none; otherwise long enough that guessing it is as hard as guessing a generated one.
    adminToken: { type: 'string', anyOf: [{ maxLength: 0 }, { minLength: 32, maxLength: 512, pattern: '^[A-Za-z0-9._~+/-]+=*$' }] },
    adminTokenFile: { type: 'string', minLength: 1 },
    // The longest a revoked token or a removed grant keeps working on a broker that did not make the change.
    authCacheMs: int(0, 300_000),
    tlsCertFile: { type: 'string' },
    tlsKeyFile: { type: 'string' },
    tlsCaFile: { type: 'string' },
    secretKey: { type: 'string', pattern: '^(|[0-9A-Fa-f]{64}|[A-Za-z0-9+/]{43}=)$' },
  },
} as const;

export class ConfigError extends Error {}

const validate = new Ajv({ allErrors: true }).compile<Config>(configSchema);

/** Coerces an environment string to the type the key's default has. */
function fromEnv(key: keyof Config, raw: string): unknown {
  if (typeof DEFAULT_CONFIG[key] === 'boolean') {
    // Only the two words: anything else stays a string and fails validation naming the key.
    const word = raw.trim().toLowerCase();
    return word === 'true' ? true : word === 'false' ? false : raw;
  }
  if (typeof DEFAULT_CONFIG[key] !== 'number') return raw;
  const trimmed = raw.trim();
  // Number('') is 0 and Number('1e3') is 1000: only plain integers are accepted.
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : raw;
}

/** TABLEMQ_* variables read outside the config object. */
const OTHER_ENV_NAMES = ['TABLEMQ_CONFIG_FILE', 'TABLEMQ_LOG_SILENT'];

/**
 * One warning for each TABLEMQ_* variable that is no config key (a typo would otherwise be
 * ignored in silence), naming the closest known one.
 */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = [...(Object.keys(DEFAULT_CONFIG) as (keyof Config)[]).map(envName), ...OTHER_ENV_NAMES];
  return Object.keys(env)
    .filter((name) => name.startsWith('TABLEMQ_') && !known.includes(name))
    .sort()
    .map((name) => `unknown environment variable ${name} is ignored; did you mean ${closest(name, known)}?`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  const file = env.TABLEMQ_CONFIG_FILE;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`TABLEMQ_CONFIG_FILE: cannot read ${file} as JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`TABLEMQ_CONFIG_FILE: ${file} must hold a JSON object`);
    }
    Object.assign(merged, parsed);
  }
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof Config)[]) {
    const raw = env[envName(key)];
    if (raw !== undefined) merged[key] = fromEnv(key, raw);
  }
  Object.assign(merged, overrides);
  if (!validate(merged)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = (e.instancePath.slice(1) || String(e.params.additionalProperty ?? '')) as keyof Config;
      const where = key in DEFAULT_CONFIG ? `${key} (${envName(key)})` : key || 'config';
      return `${where}: ${e.message ?? 'invalid'}${'allowedValues' in e.params ? ' ' + JSON.stringify(e.params.allowedValues) : ''}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const config = merged as Config;
  if (config.holeGraceMs < 2 * config.produceStatementTimeoutMs) {
    // The pull path skips a hole once it is older than the grace period; that is only safe
    // when no insert that could fill it can still be running (docs/architecture.md, "The in-flight gap").
    throw new ConfigError(
      `holeGraceMs (${envName('holeGraceMs')}): must be at least 2 × produceStatementTimeoutMs (${2 * config.produceStatementTimeoutMs})`,
    );
  }
  if ((config.tlsCertFile === '') !== (config.tlsKeyFile === '')) {
    const missing: keyof Config = config.tlsCertFile === '' ? 'tlsCertFile' : 'tlsKeyFile';
    throw new ConfigError(`${missing} (${envName(missing)}): HTTPS needs both a certificate and its key`);
  }
  if (config.tlsCaFile !== '' && config.tlsCertFile === '') {
    throw new ConfigError(`tlsCaFile (${envName('tlsCaFile')}): client certificates need HTTPS (tlsCertFile and tlsKeyFile)`);
  }
  if (config.queueReleaseGraceMs < 2 * config.metadataRefreshMs + config.produceStatementTimeoutMs) {
    // A broker may write to a queue until its catalog refresh shows the queue gone or read-only.
    throw new ConfigError(
      `queueReleaseGraceMs (${envName('queueReleaseGraceMs')}): must be at least 2 × metadataRefreshMs + produceStatementTimeoutMs (${2 * config.metadataRefreshMs + config.produceStatementTimeoutMs})`,
    );
  }
  parseMysqlUrl(config.mysqlUrl); // throws a ConfigError naming the key
  return config;
}

/** Database names become SQL identifiers: same strict rule as topic names, minus dots. */
export const DATABASE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

export function parseMysqlUrl(url: string): DbTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`mysqlUrl (TABLEMQ_MYSQL_URL): not a URL: ${url}`);
  }
  if (parsed.protocol !== 'mysql:') throw new ConfigError('mysqlUrl (TABLEMQ_MYSQL_URL): must start with mysql://');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!DATABASE_NAME_PATTERN.test(database)) {
    throw new ConfigError(
      `mysqlUrl (TABLEMQ_MYSQL_URL): database name "${database}" must match ${DATABASE_NAME_PATTERN.source}`,
    );
  }
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
    database,
  };
}
