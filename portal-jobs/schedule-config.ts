import { validateDetailed } from 'node-cron';
import { ConfigError, envName, type Config } from '../shared/config';
import { JOBS } from './jobs';

/**
 * Checks every job's cron expression with node-cron's own parser (the ajv schema only knows it is
 * a string). Disabled jobs are checked too: turning one on later must not be when a typo shows.
 * Throws a ConfigError naming the key, like loadConfig does.
 */
export function checkJobSchedules(config: Config): void {
  const problems: string[] = [];
  for (const job of Object.values(JOBS)) {
    const expression = config[job.cronKey];
    const result = validateDetailed(expression);
    if (!result.valid) {
      const why = result.errors.map((e) => e.message).join(', ') || 'not a cron expression';
      problems.push(`${job.cronKey} (${envName(job.cronKey)}): "${expression}" is not a valid cron expression: ${why}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}
