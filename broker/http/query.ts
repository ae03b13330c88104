import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { BrokerError } from '../../shared/errors';

/** Query strings arrive as text: this ajv coerces "50" to 50 before checking the schema. */
const queryAjv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
addFormats(queryAjv);

export function queryValidator<T>(schema: object): (value: unknown) => T {
  const check = queryAjv.compile<T>(schema);
  return (value: unknown): T => {
    const copy = { ...(value as object) };
    if (!check(copy)) {
      throw new BrokerError(
        'VALIDATION_FAILED',
        'query parameters do not match the schema',
        (check.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid', params: e.params })),
      );
    }
    return copy;
  };
}

/** Paging cursor "queueId:id": where the previous page stopped. */
export function parseCursor(after: string | undefined): { queueId: number; id: number } | undefined {
  if (after === undefined) return undefined;
  const m = /^(\d{1,15}):(\d{1,19})$/.exec(after);
  if (!m) throw new BrokerError('VALIDATION_FAILED', 'after must look like "queueId:id"', { after });
  return { queueId: Number(m[1]), id: Number(m[2]) };
}
