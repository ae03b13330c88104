import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Consumer } from '../../client/consumer';
import type { ReceivedMessage } from '../../client/messages';
import { action, positiveInt } from '../context';

interface TailOptions {
  name?: string;
  count?: number;
}

function line(m: ReceivedMessage, json: boolean): string {
  if (json) return JSON.stringify(m);
  const extras = [m.key === null ? '' : ` key=${m.key}`, m.tag === null ? '' : ` tag=${m.tag}`, m.retryCount > 0 ? ` retry=${m.retryCount}` : ''].join('');
  return `${m.topic} ${m.queueId}:${m.id}${extras} ${JSON.stringify(m.body)}`;
}

export function tailCommand(program: Command): void {
  program
    .command('tail <group>')
    .description("consume a group's messages and print them, one a line (JSON lines with --json), until Ctrl-C or --count")
    .option('--name <name>', 'consumer name in the group (default tablemq-tail-<host>-<pid>)')
    .option('-n, --count <n>', 'stop after this many messages', positiveInt)
    .addHelpText(
      'after',
      '\ntail is a member of the group like any consumer: it takes queues from the others, and what it\nprints is committed (processed) for the group. It leaves the group when it stops.',
    )
    .action(
      action<TailOptions>(async ({ output, globals }, [group], o) => {
        const stop = new AbortController();
        let printed = 0;
        const consumer = new Consumer({
          brokers: globals.broker,
          token: globals.token,
          group: group!,
          name: o.name ?? `tablemq-tail-${hostname()}-${process.pid}`,
          // One message at a time: the output is in order, and --count stops exactly there.
          concurrency: 1,
          waitMs: 5_000,
          commitIntervalMs: 100,
          signal: stop.signal,
          onError: (err) => process.stderr.write(`tablemq tail: ${err.message}\n`),
          handler: (m) => {
            output.out(line(m, output.json));
            printed += 1;
            if (o.count !== undefined && printed >= o.count) stop.abort();
          },
        });
        const interrupted = () => stop.abort();
        process.once('SIGINT', interrupted);
        process.once('SIGTERM', interrupted);
        try {
          await consumer.start();
          await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
          await consumer.stop();
        } finally {
          process.off('SIGINT', interrupted);
          process.off('SIGTERM', interrupted);
        }
      }),
    );
}
