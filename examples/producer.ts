/**
 * Produces a few orders to the topic "orders" (created here if missing).
 *   npm start                                   # in another terminal: a broker on :8080
 *   node --import tsx examples/producer.ts      # TABLEMQ_URL=http://host:port to point elsewhere
 */
import { Producer } from '../client';

const broker = process.env.TABLEMQ_URL ?? 'http://localhost:8080';

async function main() {
  // Topics are created through the admin API; the client only produces and consumes.
  await fetch(`${broker}/api/v1/admin/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(process.env.TABLEMQ_TOKEN ? { authorization: `Bearer ${process.env.TABLEMQ_TOKEN}` } : {}) },
    body: JSON.stringify({ name: 'orders', queues: 4 }),
  }); // 409 when it exists already: fine

  const producer = new Producer({ brokers: [broker], token: process.env.TABLEMQ_TOKEN });

  // One request, answered once the messages are committed:
  const stored = await producer.send('orders', [{ body: { orderId: 1 }, key: 'customer-7' }]);
  console.log('sent', stored);

  // Single messages, batched by the client (each promise resolves with where its message went):
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => producer.enqueue('orders', { body: { orderId: 100 + i }, key: `customer-${i % 3}` })),
  );
  console.log('enqueued', results);

  await producer.close(); // flushes what is still buffered
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
