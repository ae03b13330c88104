import { LOG_LEVELS, type LogLevel } from '../../shared/config';
import type { Logger } from '../../shared/logger';

export const logLevelSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['level'],
  properties: {
    level: { enum: [...LOG_LEVELS], description: 'The new level; `http` logs every request, `debug` adds internals' },
    durationMs: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400_000,
      description: 'Go back to the level set without a duration (at start: logLevel) after this long',
    },
  },
} as const;

export interface LogLevelState {
  level: LogLevel;
  /** The level it goes back to, and when; null when the level is not temporary. */
  revertsTo: LogLevel | null;
  revertsAt: string | null;
}

/**
 * The log level of one broker, changeable while it runs. Child loggers read the level through
 * their parent, so a change reaches every logger of the broker at once. A change with a duration
 * is temporary: the level goes back to the last one set without a duration.
 */
export class LogLevelControl {
  private base: LogLevel;
  private revert: { timer: NodeJS.Timeout; at: Date } | undefined;

  constructor(private readonly logger: Logger) {
    this.base = logger.level as LogLevel;
  }

  state(): LogLevelState {
    return {
      level: this.logger.level as LogLevel,
      revertsTo: this.revert ? this.base : null,
      revertsAt: this.revert?.at.toISOString() ?? null,
    };
  }

  set(level: LogLevel, durationMs?: number): LogLevelState {
    this.cancelRevert();
    if (durationMs === undefined) {
      this.base = level;
    } else {
      const timer = setTimeout(() => {
        this.revert = undefined;
        this.apply(this.base, 'log level reverted');
      }, durationMs);
      // A pending revert alone must not keep a stopping process alive.
      timer.unref();
      this.revert = { timer, at: new Date(Date.now() + durationMs) };
    }
    this.apply(level, 'log level changed');
    return this.state();
  }

  /** Stops a pending revert (the broker is stopping). */
  stop(): void {
    this.cancelRevert();
  }

  private cancelRevert(): void {
    clearTimeout(this.revert?.timer);
    this.revert = undefined;
  }

  private apply(level: LogLevel, why: string): void {
    const previous = this.logger.level;
    this.logger.level = level;
    // warn: the change itself shows at every level but error.
    this.logger.warn(why, { level, previous, revertsAt: this.revert?.at.toISOString() ?? null });
  }
}
