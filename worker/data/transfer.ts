/**
 * Copying contacts' rows from one database to another, as they are: a contact merged into one on another
 * shard, and a site moved to other shards. Rows are read with every column and written back with the
 * columns they came with, so a column a later migration adds travels too.
 */
import { jsonPayloads } from './json-rows'

/** What is kept about a contact, by table, with the column naming it. */
export const CONTACT_TABLES = [
  ['contacts', 'id'],
  ['events', 'contact_id'],
  ['segment_members', 'contact_id'],
  ['workflow_counters', 'contact_id'],
  ['contact_identities', 'contact_id'],
  ['contact_aliases', 'contact_id'],
] as const

export type ContactTable = (typeof CONTACT_TABLES)[number][0]

/** Rows of some contacts, by table, each with all its columns. */
export type ContactRows = Record<ContactTable, Array<Record<string, unknown>>>

/** Indexes that find a contact's rows, where the primary key does not lead with the contact. */
const BY_CONTACT: Partial<Record<ContactTable, string>> = {
  segment_members: 'segment_members_contact',
  contact_aliases: 'contact_aliases_contact',
}

/** Every row kept about these contacts, in one D1 call, each read by a seek on the contact. */
export async function readContactRows(db: D1Database, siteId: string, ids: readonly string[]): Promise<ContactRows> {
  const list = JSON.stringify([...new Set(ids)])
  const results = await db.batch(
    CONTACT_TABLES.map(([table, column]) =>
      db
        .prepare(`SELECT * FROM ${table}${BY_CONTACT[table] ? ` INDEXED BY ${BY_CONTACT[table]}` : ''} WHERE site_id = ?1 AND ${column} IN (SELECT value FROM json_each(?2))`)
        .bind(siteId, list),
    ),
  )
  return Object.fromEntries(CONTACT_TABLES.map(([table], i) => [table, results[i].results as Array<Record<string, unknown>>])) as ContactRows
}

/**
 * Statements that write rows into a table as they were read, a row already there (same key) left as it
 * is: copying again is harmless.
 */
export function insertRows(db: D1Database, table: string, rows: ReadonlyArray<Record<string, unknown>>): D1PreparedStatement[] {
  if (rows.length === 0) return []
  const columns = Object.keys(rows[0])
  const statement = db.prepare(
    `INSERT OR IGNORE INTO ${table} (${columns.join(', ')})
     SELECT ${columns.map((col) => `r.value ->> '$.${col}'`).join(', ')} FROM json_each(?1) r`,
  )
  return jsonPayloads(rows).map((payload) => statement.bind(payload))
}

/** Statements that write these contacts' rows into another database (contacts first: the rest refer to them). */
export function insertContactRows(db: D1Database, rows: ContactRows): D1PreparedStatement[] {
  return CONTACT_TABLES.flatMap(([table]) => insertRows(db, table, rows[table]))
}

/** Statements that delete everything kept about these contacts in a database, their own rows last. */
export function deleteContactRows(db: D1Database, siteId: string, ids: readonly string[]): D1PreparedStatement[] {
  const list = JSON.stringify([...new Set(ids)])
  return [...CONTACT_TABLES]
    .reverse()
    .map(([table, column]) =>
      db
        .prepare(`DELETE FROM ${table}${BY_CONTACT[table] ? ` INDEXED BY ${BY_CONTACT[table]}` : ''} WHERE site_id = ?1 AND ${column} IN (SELECT value FROM json_each(?2))`)
        .bind(siteId, list),
    )
}
