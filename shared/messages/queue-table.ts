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

/**
 * One table per queue (DESIGN.md section 2). created_at is the database server's clock at
 * statement start: the pull path judges the age of an id hole by it, never by a broker clock.
 */
export function createQueueTableSql(tableName: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quotedTable(tableName)} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  tag VARCHAR(64) NULL,
  msg_key VARCHAR(128) NULL,
  trace_id VARCHAR(64) NULL,
  headers TEXT NULL,
  body MEDIUMBLOB NOT NULL,
  retry_count INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_msg_key (msg_key),
  KEY idx_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}
