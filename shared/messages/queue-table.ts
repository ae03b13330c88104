/**
 * Queue table names are the only identifiers tablemq puts into SQL text. They are built here, and
 * only here, from a numeric queue id; nothing taken from a request ever becomes a table name.
 */
const TABLE_NAME_PATTERN = /^mq_\d{6,12}$/;

export function queueTableName(queueId: number): string {
  if (!Number.isSafeInteger(queueId) || queueId <= 0) throw new Error(`invalid queue id ${queueId}`);
  return `mq_${String(queueId).padStart(6, '0')}`;
}

/** Quotes a table name after re-checking it, so a corrupted metadata row can't inject SQL. */
export function quotedTable(tableName: string): string {
  if (!TABLE_NAME_PATTERN.test(tableName)) throw new Error(`refusing unexpected queue table name ${JSON.stringify(tableName)}`);
  return '`' + tableName + '`';
}
