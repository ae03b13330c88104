import winston from 'winston';
import type { LogLevel } from './config';

export type Logger = winston.Logger;

/**
 * Structured JSON logs on stdout. Context (requestId, group, job...) travels in child loggers.
 * TABLEMQ_LOG_SILENT=1 silences output (used by the tests, whose servers share one terminal).
 */
export function createLogger(level: LogLevel, service: string): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console({ silent: process.env.TABLEMQ_LOG_SILENT === '1' })],
  });
}
