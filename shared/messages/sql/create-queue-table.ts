import type { Pool } from 'mysql2/promise';
import { quotedTable } from '../queue-table';

/**
 * One table per queue (docs/architecture.md, "Stores"). created_at is the database server's clock at
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

/** Creates a queue table on its node (a spare queue, before any topic claims it). */
export async function createQueueTable(pool: Pool, tableName: string): Promise<void> {
  await pool.query(createQueueTableSql(tableName));
}
