import type { BrokerContext } from './context';
import { route, type ApiRoute } from './http/route-table';

/** Health and metrics: open without a token, for load balancers and Prometheus. */
export function opsRoutes(ctx: BrokerContext, isReady: () => Promise<boolean>): ApiRoute[] {
  return [
    route({
      method: 'get',
      path: '/healthz',
      tag: 'operations',
      summary: 'Liveness: the process answers',
      public: true,
      example: { response: { status: 'ok' } },
      handler: (_req, res) => {
        res.json({ status: 'ok' });
      },
    }),
    route({
      method: 'get',
      path: '/readyz',
      tag: 'operations',
      summary: 'Readiness: the metadata database answers (503 when not)',
      public: true,
      example: { response: { status: 'ready' } },
      handler: async (_req, res) => {
        const ready = await isReady().catch(() => false);
        res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus metrics of this broker (text exposition format)',
      public: true,
      produces: 'text/plain',
      handler: async (_req, res) => {
        const text = await ctx.metrics.text();
        res.type(ctx.metrics.contentType).send(text);
      },
    }),
  ];
}
