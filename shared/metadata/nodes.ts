import type { Knex } from 'knex';
import { SecretBox } from '../secrets/secret-box';
import type { DbNode, NewDbNode } from './rows';

type Db = Knex | Knex.Transaction;

interface DbNodeRecord {
  id: number;
  name: string;
  host: string;
  port: number;
  database_name: string;
  user: string;
  password: string;
  read_only: number;
  created_at: Date;
}

function toDbNode(r: DbNodeRecord): DbNode {
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    port: r.port,
    database: r.database_name,
    user: r.user,
    password: r.password,
    readOnly: Boolean(r.read_only),
    createdAt: r.created_at,
  };
}

/** `node.password` is the plain secret; it is stored sealed by `secrets`. */
export async function insertDbNode(db: Db, node: NewDbNode, secrets: SecretBox): Promise<number> {
  const [id] = await db('db_node').insert({
    name: node.name,
    host: node.host,
    port: node.port,
    database_name: node.database,
    user: node.user,
    password: secrets.seal(node.password),
    read_only: node.readOnly,
  });
  return Number(id);
}

/** Seeds the metadata DB itself as node `default` when no node exists (run under the migration lock). */
export async function insertDefaultNodeIfNone(db: Db, node: NewDbNode, secrets: SecretBox): Promise<boolean> {
  const existing = await db('db_node').first('id');
  if (existing) return false;
  await insertDbNode(db, node, secrets);
  return true;
}

/** Seals the passwords stored before there was a key (run under the migration lock); returns how many. */
export async function sealPlainPasswords(db: Db, secrets: SecretBox): Promise<number> {
  if (!secrets.encrypts) return 0;
  const rows: { id: number; password: string }[] = await db('db_node').select('id', 'password');
  const plain = rows.filter((r) => SecretBox.isPlain(r.password));
  for (const r of plain) await db('db_node').where({ id: r.id }).update({ password: secrets.seal(secrets.open(r.password)) });
  return plain.length;
}

export async function listDbNodes(db: Db): Promise<DbNode[]> {
  const rows: DbNodeRecord[] = await db('db_node').select('*').orderBy('id');
  return rows.map(toDbNode);
}

export async function findDbNodeByName(db: Db, name: string): Promise<DbNode | undefined> {
  const row: DbNodeRecord | undefined = await db('db_node').where({ name }).first();
  return row && toDbNode(row);
}

export async function findDbNodeById(db: Db, id: number): Promise<DbNode | undefined> {
  const row: DbNodeRecord | undefined = await db('db_node').where({ id }).first();
  return row && toDbNode(row);
}
