/**
 * Consumes "orders" in the group "billing" (created and subscribed here if missing) until Ctrl-C.
 *   npm start                                   # in another terminal: a broker on :8080
 *   node --import tsx examples/consumer.ts      # then run examples/producer.ts
 */
import { Consumer } from '../client';

const broker = process.env.TABLEMQ_URL ?? 'http://localhost:8080';
const token = process.env.TABLEMQ_TOKEN;

async function admin(path: string, body: unknown) {
  // 409 when it exists already: fine
  await fetch(`${broker}/api/v1/admin${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function main() {
  await admin('/topics', { name: 'orders', queues: 4 });
  await admin('/groups', { name: 'billing' });
  await admin('/groups/billing/subscriptions', { topic: 'orders', start: 'earliest' });

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  const consumer = new Consumer<{ orderId: number }>({
    brokers: [broker],
    token,
    group: 'billing',
    name: `billing-${process.pid}`,
    signal: stop.signal, // Ctrl-C: finish running handlers, commit, leave
    handler: async (message) => {
      // Throwing here reports the message with `fail`: it comes back through billing.orders.retry.
      console.log(`order ${message.body.orderId} (queue ${message.queueId}, id ${message.id}, key ${message.key})`);
    },
    onRebalance: (e) => console.log('now owning queues', e.queues),
    onError: (e) => console.error('consumer:', e.message),
  });
  await consumer.start();
  console.log('consuming; Ctrl-C to stop');
  await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
  await consumer.stop();
  console.log('stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
