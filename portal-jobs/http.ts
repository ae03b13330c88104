import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobsContext } from './context';

export interface JobsHttp {
  port: number;
  close(): Promise<void>;
}

/**
 * portal-jobs' own small HTTP server: GET /healthz and GET /metrics, on `jobsPort`. Plain
 * node:http: two read-only routes need no framework.
 */
export async function startJobsHttp(ctx: JobsContext): Promise<JobsHttp> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET is served here' } });
    } else if (path === '/healthz') {
      json(200, { status: 'ok', holder: ctx.holder });
    } else if (path === '/metrics') {
      ctx.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType }).end(text),
        (err: Error) => json(500, { error: { code: 'INTERNAL', message: err.message } }),
      );
    } else {
      json(404, { error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${path}` } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.jobsPort, ctx.config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.logger.info('portal-jobs /metrics and /healthz listening', { host: ctx.config.host, port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
