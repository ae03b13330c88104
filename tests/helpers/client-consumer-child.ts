/**
 * A client Consumer in its own process, so a test can kill it (SIGKILL: no commit, no leave).
 * Settings come from the environment; each handled message is written to stdout as a JSON line
 * `{"queueId","id","body"}` before the handler returns.
 */
import { Consumer } from '../../client';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const consumer = new Consumer({
  brokers: env('CLIENT_BROKERS').split(','),
  token: process.env.CLIENT_TOKEN || undefined,
  group: env('CLIENT_GROUP'),
  name: env('CLIENT_NAME'),
  waitMs: 500,
  handler: async (m) => {
    process.stdout.write(`${JSON.stringify({ queueId: m.queueId, id: m.id, body: m.body })}\n`);
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.CLIENT_HANDLER_MS ?? '0')));
  },
});
void consumer.start();
