import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Config } from '../shared/config';
import { prepareMetadata } from '../shared/db/prepare-metadata';
import { createLogger, type Logger } from '../shared/logger';
import { NodePools } from '../shared/messages/node-pools';
import { adminRoutes } from './admin/routes';
import { messageRoutes } from './admin/message-routes';
import { Catalog } from './catalog';
import type { BrokerContext } from './context';
import { errorHandler, notFoundHandler, requireJsonBody } from './http/errors';
import { requestContext } from './http/request-context';
import { checkJsonDepth } from './http/json-depth';
import { Producer } from './produce/producer';
import { produceRoutes } from './produce/routes';
import { QueueSignals } from './signals';
import { Metrics } from './metrics';
import { registerGauges } from './gauges/register';
import { mountRoutes, type ApiRoute } from './http/route-table';
import { opsRoutes } from './ops-routes';
import { docsRoutes, mountDocsAssets } from './docs-routes';
import { LogLevelControl } from './admin/log-level';
import { brokerRoutes } from './admin/broker-routes';
import { HOT_ROUTES, hotRoutes } from './hot-routes';
import { Scheduler } from './schedule/scheduler';
import { errorAnswer, sendJson } from './http/raw-json';
import { BrokerError } from '../shared/errors';
import type { MetadataDb } from '../shared/db/metadata-db';
import { consumeRoutes } from './consume/routes';
import { OwnershipHints } from './consume/ownership-hints';
import { Prefetches } from './consume/prefetch';
import { WaitingPulls } from './consume/waiting-pulls';
import { Rotation, type Reading } from './consume/fair-read';
import { SharedReads } from './consume/queue-reader';
import { appRoutes } from './auth/app-routes';
import { Authenticator } from './auth/authenticator';
import { bootstrapAdmin } from './auth/bootstrap';
import { authenticate, requireAdmin, requireConsume, requireProduce } from './auth/guards';
import { tlsOptions } from './http/tls';
import { SecretBox } from '../shared/secrets/secret-box';

export interface Broker {
  ctx: BrokerContext;
  /** The port actually bound (useful with port 0). */
  port: number;
  stop(): Promise<void>;
}

/** Every route of the HTTP API: the express app and /api/v1/openapi.json are both built from this. */
export function apiRoutes(ctx: BrokerContext, isReady: () => Promise<boolean>): ApiRoute[] {
  const routes: ApiRoute[] = [];
  routes.push(
    ...opsRoutes(ctx, isReady),
    ...docsRoutes(() => routes),
    ...Object.values(HOT_ROUTES),
    ...appRoutes(ctx),
    ...adminRoutes(ctx),
    ...brokerRoutes(ctx),
    ...messageRoutes(ctx),
    ...produceRoutes(ctx),
    ...consumeRoutes(ctx),
  );
  return routes;
}

export function buildApp(ctx: BrokerContext, routes: readonly ApiRoute[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Weak ETags hash every response body (sha1): wasted work for an API whose answers are never cached.
  app.set('etag', false);
  app.set('trust proxy', false);
  app.use(requestContext(ctx.logger, ctx.metrics.requestSeconds));
  // swagger-ui's static files for the reference page: public, like the page itself.
  mountDocsAssets(app);
  // Who is calling, before anything reads the body; then what each route class needs.
  app.use(authenticate(ctx, routes));
  app.use('/api/v1/admin', requireAdmin);
  app.use('/api/v1/topics/:topic', requireProduce(ctx));
  app.use('/api/v1/groups/:group', requireConsume);
  app.use(requireJsonBody);
  app.use(express.json({ limit: ctx.config.maxRequestBytes, strict: false, type: 'application/json' }));
  app.use((req, _res, next) => {
    checkJsonDepth(req.body);
    next();
  });
  mountRoutes(app, routes);
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}

/** A prefetched reading not taken within this is dropped: its consumer is not coming back soon. */
const PREFETCH_TTL_MS = 5_000;

function prefetchesFor(config: Config): Prefetches<Reading> {
  return new Prefetches<Reading>(config.pullPrefetchMaxBytes, PREFETCH_TTL_MS, (r) =>
    r.takes.reduce((sum, t) => sum + t.messages.reduce((n, m) => n + m.json.length, 0), 0),
  );
}

/**
 * What the broker answers until the metadata DB is prepared: alive (/healthz), not ready
 * (/readyz 503), and 503 with Retry-After for everything else, so that a load balancer and a
 * client both see a broker that is coming up rather than a refused connection.
 */
function whileStarting(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const path = req.url?.split('?')[0];
  if (path === '/healthz') return sendJson(res, 200, JSON.stringify({ status: 'ok' }));
  if (path === '/readyz') return sendJson(res, 503, JSON.stringify({ status: 'not ready' }));
  const answer = errorAnswer(new BrokerError('STORE_UNAVAILABLE', 'the broker is starting: the metadata database is not reachable yet', null, { retryAfterSeconds: 1 }));
  res.setHeader('Retry-After', String(answer.retryAfter));
  sendJson(res, answer.status, answer.body);
}

export async function startBroker(config: Config, logger: Logger = createLogger(config.logLevel, 'broker')): Promise<Broker> {
  const tls = tlsOptions(config); // a bad certificate or key stops the start before anything else
  let handle: http.RequestListener = whileStarting;
  const listener: http.RequestListener = (req, res) => handle(req, res);
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  // Long-polls last up to pullMaxWaitMs; keep the socket open a little longer than that.
  server.requestTimeout = config.pullMaxWaitMs + 30_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('broker starting: preparing the metadata database', { host: config.host, port });

  const giveUp = async (err: unknown, db?: MetadataDb): Promise<never> => {
    await db?.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  };
  const db = await prepareMetadata(config, logger).catch((err: unknown) => giveUp(err));
  await bootstrapAdmin(db, config, logger).catch((err: unknown) => giveUp(err, db));
  const secrets = SecretBox.fromConfig(config);
  const nodes = new NodePools({ poolSize: config.nodePoolSize, statementTimeoutMs: config.produceStatementTimeoutMs, logger, secrets });
  const catalog = new Catalog(db, logger, config.metadataRefreshMs);
  const closing = new AbortController();
  const metrics = new Metrics();
  const signals = new QueueSignals();
  const waitingPulls = new WaitingPulls({ db, nodes, catalog, signals, logger, config });
  const ctx: BrokerContext = {
    config,
    logger,
    db,
    nodes,
    secrets,
    auth: new Authenticator(db, config),
    catalog,
    signals,
    ownership: new OwnershipHints(),
    prefetches: prefetchesFor(config),
    waitingPulls,
    sharedReads: new SharedReads(),
    rotation: new Rotation(),
    closing: closing.signal,
    metrics,
    logLevel: new LogLevelControl(logger),
  };
  await catalog.start();
  const producer = new Producer(ctx);
  registerGauges(ctx, producer);
  const scheduler = new Scheduler(ctx, producer);
  scheduler.start();
  const routes = apiRoutes(ctx, async () => {
    await db.raw('SELECT 1');
    return true;
  });
  const app = buildApp(ctx, routes);

  const hot = hotRoutes(ctx, producer);
  handle = (req, res) => {
    if (!hot(req, res)) app(req, res);
  };
  logger.info('broker listening', { host: config.host, port, https: tls !== undefined, auth: config.auth });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('broker stopping: no new connections, finishing in-flight requests');
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      await Promise.race([closed, timeout]);
      server.closeAllConnections();
      await scheduler.stop();
      waitingPulls.stop();
      catalog.stop();
      ctx.logLevel.stop();
      await nodes.closeAll();
      await db.destroy();
      logger.info('broker stopped');
    })());

  return { ctx, port, stop };
}
