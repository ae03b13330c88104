import { Writable } from 'node:stream';
import winston from 'winston';

/** A JSON logger that keeps every line it writes, at the most verbose level, so a test can search them. */
export function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = winston.createLogger({ level: 'silly', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: sink })] });
  return { logger, lines, text: () => lines.join('') };
}
