/**
 * The broker as run.ts measures it: a process of its own (as in production, so broker CPU and
 * load-generator CPU are separate), configured like broker/main.ts from TABLEMQ_* variables, plus the
 * bench agent that reports its port, event-loop health and CPU profiles over IPC.
 */
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { startBroker } from '../broker/server';
import { serveBench } from './child-agent';

async function main(): Promise<void> {
  const config = loadConfig();
  const broker = await startBroker(config, createLogger(config.logLevel, 'broker'));
  // The URL may carry a password, and the tokens and keys are secrets; the report keeps everything else of the effective config.
  const hidden = (value: string) => (value === '' ? '' : '***');
  const shown = { ...config, mysqlUrl: config.mysqlUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@'), adminToken: hidden(config.adminToken), secretKey: hidden(config.secretKey) };
  serveBench({ port: broker.port, info: shown, stop: () => broker.stop() });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench broker failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
