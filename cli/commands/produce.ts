import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Producer } from '../../client/producer';
import type { OutgoingMessage, SendResult } from '../../client/messages';
import { action, nonNegativeInt } from '../context';
import { UsageError } from '../exit-codes';
import { print, table } from '../output';

interface ProduceOptions {
  key?: string;
  tag?: string;
  header?: string[];
  delayMs?: number;
  text?: boolean;
}

/** A message body from the command line: JSON when it parses as JSON (unless --text), else the text itself. */
function bodyOf(raw: string, asText: boolean): unknown {
  if (asText) return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function headersOf(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  return Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf('=');
      if (at <= 0) throw new UsageError(`--header takes name=value, not ${JSON.stringify(p)}`);
      return [p.slice(0, at), p.slice(at + 1)];
    }),
  );
}

const resultTable = (results: SendResult[]) =>
  table(results, [
    ['QUEUE', (r) => r.queueId ?? 'scheduled'],
    ['ID', (r) => r.id ?? ('scheduledId' in r ? r.scheduledId : null)],
    ['DUE_AT', (r) => ('dueAt' in r ? r.dueAt : null)],
  ]);

export function produceCommand(program: Command): void {
  program
    .command('produce <topic> [bodies...]')
    .description('produce messages: each argument is one message body, or each line of stdin when there is none')
    .option('-k, --key <key>', 'key of every message (same key, same queue, in order)')
    .option('-t, --tag <tag>', 'tag of every message')
    .option('-H, --header <name=value...>', 'headers of every message')
    .option('--delay-ms <ms>', 'deliver this much later', nonNegativeInt)
    .option('--text', 'send each body as a JSON string, even when it parses as JSON')
    .addHelpText('after', '\nA body that parses as JSON is sent as that value ({"orderId":42}, 7, true), anything else as a string.\nFrom stdin, empty lines are skipped and messages go in batches.')
    .action(
      action<ProduceOptions>(async ({ output, globals }, [topic, ...bodies], o) => {
        const producer = new Producer({ brokers: globals.broker, token: globals.token, retryForMs: 5_000 });
        const template = { key: o.key, tag: o.tag, headers: headersOf(o.header), delayMs: o.delayMs };
        const message = (raw: string): OutgoingMessage => ({ ...template, body: bodyOf(raw, o.text === true) });
        let results: SendResult[];
        try {
          if (bodies.length > 0) {
            results = await producer.send(topic!, bodies.map(message));
          } else {
            const pending: Promise<SendResult>[] = [];
            for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
              if (line.trim() !== '') pending.push(producer.enqueue(topic!, message(line)));
            }
            results = await Promise.all(pending);
          }
        } finally {
          await producer.close();
        }
        print(output, results, (r) => (r.length === 1 ? resultTable(r) : `produced ${r.length} message(s) to ${topic}\n` + resultTable(r)));
      }),
    );
}
