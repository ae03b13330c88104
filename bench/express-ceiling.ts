/**
 * The HTTP ceiling: the least an express 5 JSON endpoint can do (parse the body, answer 201), in its
 * own process like the broker, so "single produce / this" says how much of the request budget the
 * broker's own work (validation, routing, group commit, MariaDB) takes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { serveBench } from './child-agent';

const app = express();
app.disable('x-powered-by');
// Same body limit as the broker's default maxRequestBytes.
app.use(express.json({ limit: '16mb' }));
app.post('/api/v1/topics/:topic/messages', (_req, res) => {
  res.status(201).json({ ok: true });
});

const server = http.createServer(app);
server.keepAliveTimeout = 65_000; // as the broker: keep-alive sockets must outlive the load generator's pauses
server.listen(0, '127.0.0.1', () => {
  serveBench({
    port: (server.address() as AddressInfo).port,
    info: { express: 'express.json({limit: "16mb"}) + one POST route answering 201 {ok:true}' },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
});
