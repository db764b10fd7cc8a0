/**
 * The contacts table: a contact as Segue keeps it (verified identifiers, a browser's claims, system fields
 * in columns and custom ones in JSON), read, searched, and created and changed in bulk.
 */
import { type SiteData } from './shards'
import { SYSTEM_FIELDS, type SystemFieldKey } from '../conditions/fields'
import { type FieldValue } from '../../shared/events'
import { jsonPayloads } from './json-rows'

export interface Contact {
  id: string
  /** Verified: set by an admin or an import, or signed by the site's server. Unique in a site. */
  email: string | null
  externalId: string | null
  /** What a browser said without a signature: kept, shown as unverified, never used to find the contact. */
  claimedEmail: string | null
  claimedExternalId: string | null
  /** System profile fields (firstName, birthDate...) and custom fields, together. */
  fields: Record<string, FieldValue>
  createdAt: number
  lastSeenAt: number | null
}

/** A change to one contact: undefined leaves a value alone, null clears it. */
export interface ContactChange {
  id: string
  email?: string | null
  externalId?: string | null
  claimedEmail?: string | null
  claimedExternalId?: string | null
  fields?: Record<string, FieldValue | null>
}

/** The system fields kept in columns of their own, other than the identifiers and timestamps. */
export const PROFILE_FIELDS = (Object.keys(SYSTEM_FIELDS) as SystemFieldKey[]).filter(
  (k) => !['email', 'externalId', 'createdAt', 'lastSeenAt'].includes(k),
)
const PROFILE_COLUMNS = PROFILE_FIELDS.map((k) => SYSTEM_FIELDS[k].column)
const IDENTITY_COLUMNS = ['email', 'external_id', 'claimed_email', 'claimed_external_id']

export interface ContactRow {
  id: string
  email: string | null
  external_id: string | null
  claimed_email: string | null
  claimed_external_id: string | null
  custom: string
  created_at: number
  last_seen_at: number | null
  [column: string]: string | number | null
}

export function toContact(r: ContactRow): Contact {
  const fields: Record<string, FieldValue> = {}
  for (const key of PROFILE_FIELDS) {
    const v = r[SYSTEM_FIELDS[key].column]
    if (v !== null && v !== undefined) fields[key] = v
  }
  Object.assign(fields, JSON.parse(r.custom))
  return {
    id: r.id,
    email: r.email,
    externalId: r.external_id,
    claimedEmail: r.claimed_email,
    claimedExternalId: r.claimed_external_id,
    fields,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  }
}

/** Every value a condition can read, keyed by field name (the evaluator's view of a contact). */
export function fieldValues(c: Contact): Record<string, unknown> {
  return { ...c.fields, email: c.email ?? undefined, externalId: c.externalId ?? undefined, createdAt: c.createdAt, lastSeenAt: c.lastSeenAt ?? undefined }
}

export async function getContact(db: D1Database, siteId: string, id: string): Promise<Contact | undefined> {
  const row = await db.prepare('SELECT * FROM contacts WHERE site_id = ?1 AND id = ?2').bind(siteId, id).first<ContactRow>()
  return row ? toContact(row) : undefined
}

/** The contacts of a site that have any of these ids, emails or external ids. */
export async function findContacts(
  db: D1Database,
  siteId: string,
  keys: { ids: string[]; emails: string[]; externalIds: string[] },
): Promise<Contact[]> {
  const { results } = await db
    .prepare(
      // One seek per key in its own index: an OR of the three, or a planner without statistics, would walk the site.
      `SELECT * FROM contacts WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))
       UNION SELECT * FROM contacts INDEXED BY contacts_email WHERE site_id = ?1 AND email IN (SELECT value FROM json_each(?3))
       UNION SELECT * FROM contacts INDEXED BY contacts_external_id WHERE site_id = ?1 AND external_id IN (SELECT value FROM json_each(?4))`,
    )
    .bind(siteId, JSON.stringify(keys.ids), JSON.stringify(keys.emails), JSON.stringify(keys.externalIds))
    .all<ContactRow>()
  return results.map(toContact)
}

export interface ContactPage {
  contacts: Contact[]
  /** Sort key of the last contact when more may follow. */
  last?: [number, string]
}

/**
 * What a search matches, over a contacts row: its email (verified or claimed) or name containing the
 * LIKE pattern bound at `like` (null matches every contact), or its id or external id equal to the text
 * bound at `exact`.
 */
export const matchesSearch = (like: string, exact: string) =>
  `(${like} IS NULL OR email LIKE ${like} ESCAPE '\\' OR claimed_email LIKE ${like} ESCAPE '\\' OR first_name LIKE ${like} ESCAPE '\\' OR last_name LIKE ${like} ESCAPE '\\'
    OR (coalesce(first_name, '') || ' ' || coalesce(last_name, '')) LIKE ${like} ESCAPE '\\'
    OR id = ${exact} OR external_id = ${exact} OR claimed_external_id = ${exact})`

/** The LIKE pattern `matchesSearch` binds for a search's text: it contained anywhere, literally. */
export const searchPattern = (q: string | undefined) => (q ? `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null)

/** Contacts whose email, name, id or external id matches `q`, newest first. */
export async function searchContacts(
  db: D1Database,
  siteId: string,
  opts: { q?: string; after?: [number, string]; limit: number },
): Promise<ContactPage> {
  const { results } = await db
    .prepare(
      `SELECT * FROM contacts WHERE site_id = ?1 AND ${matchesSearch('?2', '?3')}
         AND (?4 IS NULL OR created_at < ?4 OR (created_at = ?4 AND id < ?5))
       ORDER BY created_at DESC, id DESC LIMIT ?6`,
    )
    .bind(siteId, searchPattern(opts.q), opts.q ?? null, opts.after?.[0] ?? null, opts.after?.[1] ?? null, opts.limit + 1)
    .all<ContactRow>()
  const contacts = results.slice(0, opts.limit).map(toContact)
  const tail = contacts[contacts.length - 1]
  return { contacts, last: results.length > opts.limit && tail ? [tail.createdAt, tail.id] : undefined }
}

/**
 * A page of a search over all of a site's shards, newest first: each shard gives its next page after the
 * cursor, and the pages are merged in the same order. The cursor is the last contact's, as on one shard.
 */
export async function searchAcross(data: SiteData, opts: { q?: string; after?: [number, string]; limit: number }): Promise<ContactPage> {
  const pages = await data.each((db) => searchContacts(db, data.siteId, opts))
  const all = pages.flatMap((p) => p.contacts).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  const contacts = all.slice(0, opts.limit)
  const tail = contacts[contacts.length - 1]
  const more = all.length > opts.limit || pages.some((p) => p.last !== undefined)
  return { contacts, last: more && tail ? [tail.createdAt, tail.id] : undefined }
}

function changeJson(c: ContactChange): Record<string, unknown> {
  const set: Record<string, unknown> = {}
  const custom: Record<string, unknown> = {}
  if (c.email !== undefined) set.email = c.email
  if (c.externalId !== undefined) set.external_id = c.externalId
  if (c.claimedEmail !== undefined) set.claimed_email = c.claimedEmail
  if (c.claimedExternalId !== undefined) set.claimed_external_id = c.claimedExternalId
  for (const [k, v] of Object.entries(c.fields ?? {})) {
    if ((PROFILE_FIELDS as string[]).includes(k)) set[SYSTEM_FIELDS[k as SystemFieldKey].column] = v
    else custom[k] = v
  }
  return { id: c.id, set, custom }
}

/** Creates contacts (ids must be new). */
export function insertContacts(db: D1Database, siteId: string, changes: ContactChange[], now: number): D1PreparedStatement[] {
  const columns = IDENTITY_COLUMNS.concat(PROFILE_COLUMNS)
  const statement = db.prepare(
    `INSERT INTO contacts (site_id, id, ${columns.join(', ')}, custom, created_at)
     SELECT ?1, r.value ->> '$.id', ${columns.map((col) => `r.value ->> '$.set.${col}'`).join(', ')},
       json_patch('{}', r.value -> '$.custom'), ?2
     FROM json_each(?3) r WHERE true`,
  )
  return jsonPayloads(changes.map(changeJson)).map((rows) => statement.bind(siteId, now, rows))
}

/** Creates the contact a visit names, born at `createdAt`, unless it exists. */
export function ensureContact(db: D1Database, siteId: string, id: string, createdAt: number): D1PreparedStatement {
  return db
    .prepare(`INSERT INTO contacts (site_id, id, custom, created_at) VALUES (?1, ?2, '{}', ?3) ON CONFLICT DO NOTHING`)
    .bind(siteId, id, createdAt)
}

/**
 * Applies changes to existing contacts: only the values a change names are touched. With `visit`, the
 * version of the visit the changes come from, a contact a newer visit was written to is left alone.
 */
export function updateContacts(db: D1Database, siteId: string, changes: ContactChange[], visit?: number): D1PreparedStatement[] {
  const columns = IDENTITY_COLUMNS.concat(PROFILE_COLUMNS)
  const sets = columns.map(
    (col) => `${col} = CASE WHEN json_type(r.value, '$.set.${col}') IS NULL THEN contacts.${col} ELSE r.value ->> '$.set.${col}' END`,
  )
  const statement = db.prepare(
    `UPDATE contacts SET ${sets.join(', ')}, custom = json_patch(contacts.custom, r.value -> '$.custom')
     FROM json_each(?2) r WHERE contacts.site_id = ?1 AND contacts.id = r.value ->> '$.id' AND contacts.written_v <= ?3
       -- The ids again as a list, so the planner seeks each contact instead of walking the site.
       AND contacts.id IN (SELECT value ->> '$.id' FROM json_each(?2))`,
  )
  return jsonPayloads(changes.map(changeJson)).map((rows) => statement.bind(siteId, rows, visit ?? Number.MAX_SAFE_INTEGER))
}

/** Records that the visit of version `v` was written to the contact (see `updateContacts`). */
export function markWritten(db: D1Database, siteId: string, id: string, v: number): D1PreparedStatement {
  return db.prepare('UPDATE contacts SET written_v = max(written_v, ?3) WHERE site_id = ?1 AND id = ?2').bind(siteId, id, v)
}

/** Moves last_seen_at forward to `at` (never back). */
export function touchContact(db: D1Database, siteId: string, id: string, at: number): D1PreparedStatement {
  return db
    .prepare('UPDATE contacts SET last_seen_at = max(coalesce(last_seen_at, 0), ?3) WHERE site_id = ?1 AND id = ?2')
    .bind(siteId, id, at)
}

/** Clears the claims these contacts now hold as verified identifiers. */
export function dropSettledClaims(db: D1Database, siteId: string, ids: readonly string[]): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE contacts SET claimed_email = nullif(claimed_email, email), claimed_external_id = nullif(claimed_external_id, external_id)
       WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2)) AND (claimed_email IS NOT NULL OR claimed_external_id IS NOT NULL)`,
    )
    .bind(siteId, JSON.stringify(ids))
}

/**
 * How many contacts of a site meet a compiled condition (`where`, an expression over contacts aliased
 * `c`), and up to `sample` of them, the most recently seen first: a preview of a segment not yet saved.
 */
export async function contactsWhere(db: D1Database, siteId: string, where: string, sample: number): Promise<{ count: number; sample: Contact[] }> {
  const [count, rows] = await db.batch([
    db.prepare(`SELECT count(*) AS n FROM contacts c WHERE c.site_id = ?1 AND ${where}`).bind(siteId),
    db.prepare(`SELECT c.* FROM contacts c WHERE c.site_id = ?1 AND ${where} ORDER BY c.last_seen_at DESC, c.id LIMIT ?2`).bind(siteId, sample),
  ])
  return { count: (count.results[0] as { n: number }).n, sample: (rows.results as ContactRow[]).map(toContact) }
}

/** Rows a sample of named contacts looks through at most, on one shard. */
const SAMPLE_SCAN = 10_000

/**
 * Up to `limit` contacts with a first name, for the content editor's "Preview as": read through
 * contacts_name from the named end (contacts with a last name first), and never more than SAMPLE_SCAN
 * index rows however many contacts the site has.
 */
export async function namedSample(db: D1Database, siteId: string, limit: number): Promise<Contact[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM (
         SELECT * FROM contacts INDEXED BY contacts_name WHERE site_id = ?1
         ORDER BY last_name COLLATE NOCASE DESC, first_name COLLATE NOCASE DESC LIMIT ?3)
       WHERE first_name IS NOT NULL LIMIT ?2`,
    )
    .bind(siteId, limit, SAMPLE_SCAN)
    .all<ContactRow>()
  return results.map(toContact)
}

