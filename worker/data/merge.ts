/**
 * Merging two contacts into one in D1, and the aliases that remember it: each merged id still leads to
 * the contact it became, and its own values are kept.
 */
import { PROFILE_FIELDS } from './contacts'
import { type ContactRows, deleteContactRows, insertContactRows, insertRows, readContactRows } from './transfer'
import { SYSTEM_FIELDS } from '../conditions/fields'

/** How two contacts came to be one: a browser proved it (a signed identify), or an admin said so. */
export type MergeSource = 'identify' | 'admin'

const PROFILE = PROFILE_FIELDS.map((k) => [k, SYSTEM_FIELDS[k].column] as const)

/** A contact row as JSON: its identifiers, its fields (system and custom together) and its times. */
const KEPT_JSON = `json_object(
  'email', email, 'externalId', external_id, 'claimedEmail', claimed_email, 'claimedExternalId', claimed_external_id,
  'fields', json_patch(custom, json_object(${PROFILE.map(([k, col]) => `'${k}', ${col}`).join(', ')})),
  'createdAt', created_at, 'lastSeenAt', last_seen_at)`

/**
 * Merges contact `from` into contact `into`, as statements for one transaction. Nothing of `from` is lost:
 * - its own values are recorded on its alias row (`kept`), shown in the console and in exports;
 * - `into` keeps its values and takes `from`'s where it has none (fields, email, external id, claims);
 * - each identifier of `from` that `into` did not take stays with `into` as a kept identifier, and the
 *   verified ones still find it;
 * - activities move (an event id both have is kept once); static memberships and limitation counters
 *   carry over;
 * - `from`'s id, and every id that pointed at it, becomes an alias of `into`.
 * Both contacts must be in `db`'s shard (see `adoptDeparting` for one that is not). `staticSegments` are
 * the site's static segments (the control database has them). Dynamic memberships are the caller's to
 * recompute after.
 */
export function mergeContacts(
  db: D1Database,
  siteId: string,
  from: string,
  into: string,
  now: number,
  source: MergeSource,
  staticSegments: readonly string[],
): D1PreparedStatement[] {
  const kept = (path: string) => `k.kept ->> '${path}'`
  const fill = [
    `email = coalesce(contacts.email, ${kept('$.email')})`,
    `external_id = coalesce(contacts.external_id, ${kept('$.externalId')})`,
    `claimed_email = coalesce(contacts.claimed_email, nullif(${kept('$.claimedEmail')}, coalesce(contacts.email, ${kept('$.email')})))`,
    `claimed_external_id = coalesce(contacts.claimed_external_id, nullif(${kept('$.claimedExternalId')}, coalesce(contacts.external_id, ${kept('$.externalId')})))`,
    ...PROFILE.map(([k, col]) => `${col} = coalesce(contacts.${col}, ${kept(`$.fields.${k}`)})`),
    `custom = json_patch(json_remove(k.kept -> '$.fields', ${PROFILE.map(([k]) => `'$.${k}'`).join(', ')}), contacts.custom)`,
    `created_at = min(contacts.created_at, k.kept ->> '$.createdAt')`,
    `last_seen_at = max(coalesce(contacts.last_seen_at, 0), coalesce(${kept('$.lastSeenAt')}, 0))`,
  ]
  // Each of `from`'s identifiers, unless `into` now holds it itself (a claim also gives way to a verified one).
  const identifiers = [
    ['email', '$.email', 1],
    ['external_id', '$.externalId', 1],
    ['email', '$.claimedEmail', 0],
    ['external_id', '$.claimedExternalId', 0],
  ] as const
  return [
    db
      .prepare(
        `INSERT INTO contact_aliases (site_id, alias_id, contact_id, created_at, source, kept)
         VALUES (?1, ?2, ?3, ?4, ?5, (SELECT ${KEPT_JSON} FROM contacts WHERE site_id = ?1 AND id = ?2))
         ON CONFLICT DO UPDATE SET contact_id = ?3, source = ?5, kept = coalesce(excluded.kept, contact_aliases.kept)`,
      )
      .bind(siteId, from, into, now, source),
    db.prepare('DELETE FROM contacts WHERE site_id = ?1 AND id = ?2').bind(siteId, from),
    db
      .prepare(
        `UPDATE contacts SET ${fill.join(', ')}
         FROM (SELECT kept FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2 AND kept IS NOT NULL) k
         WHERE contacts.site_id = ?1 AND contacts.id = ?3`,
      )
      .bind(siteId, from, into),
    // `from`'s kept identifiers move over. Where both kept the same one, the verified row stays.
    db
      .prepare(
        `DELETE FROM contact_identities WHERE site_id = ?1 AND contact_id = ?2
           AND (kind, value) IN (SELECT kind, value FROM contact_identities WHERE site_id = ?1 AND contact_id = ?3 AND verified = 1)`,
      )
      .bind(siteId, from, into),
    db
      .prepare(
        `DELETE FROM contact_identities WHERE site_id = ?1 AND contact_id = ?3 AND verified = 0
           AND (kind, value) IN (SELECT kind, value FROM contact_identities WHERE site_id = ?1 AND contact_id = ?2)`,
      )
      .bind(siteId, from, into),
    db.prepare('UPDATE contact_identities SET contact_id = ?3 WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from, into),
    db
      .prepare(
        `INSERT INTO contact_identities (site_id, contact_id, kind, value, verified, created_at)
         SELECT ?1, ?3, i.kind, i.value, i.verified, ?4 FROM (
           ${identifiers.map(([kind, path, verified]) => `SELECT '${kind}' AS kind, kept ->> '${path}' AS value, ${verified} AS verified FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2`).join('\n           UNION ALL ')}
         ) i JOIN contacts c ON c.site_id = ?1 AND c.id = ?3
         WHERE i.value IS NOT NULL
           AND NOT (i.kind = 'email' AND (i.value IS c.email OR (i.verified = 0 AND i.value IS c.claimed_email)))
           AND NOT (i.kind = 'external_id' AND (i.value IS c.external_id OR (i.verified = 0 AND i.value IS c.claimed_external_id)))
         ON CONFLICT (site_id, contact_id, kind, value) DO UPDATE SET verified = max(verified, excluded.verified)`,
      )
      .bind(siteId, from, into, now),
    // Event ids are unique per contact: an id both contacts have is one event once they are one contact.
    db.prepare('UPDATE OR IGNORE events SET contact_id = ?3 WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from, into),
    db.prepare('DELETE FROM events WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from),
    // INDEXED BY: without statistics SQLite would rather walk the whole site by primary key (site_id, ...).
    db
      .prepare(
        `INSERT INTO segment_members (site_id, segment_id, contact_id, since, source)
         SELECT m.site_id, m.segment_id, ?3, m.since, m.source FROM segment_members m INDEXED BY segment_members_contact
         WHERE m.site_id = ?1 AND m.contact_id = ?2 AND m.segment_id IN (SELECT value FROM json_each(?4))
         ON CONFLICT DO NOTHING`,
      )
      .bind(siteId, from, into, JSON.stringify(staticSegments)),
    db.prepare('DELETE FROM segment_members INDEXED BY segment_members_contact WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from),
    db
      .prepare(
        `INSERT INTO workflow_counters (site_id, contact_id, workflow_id, node_id, runs, last_at)
         SELECT site_id, ?3, workflow_id, node_id, runs, last_at FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2
         ON CONFLICT DO UPDATE SET runs = workflow_counters.runs + excluded.runs, last_at = max(workflow_counters.last_at, excluded.last_at)`,
      )
      .bind(siteId, from, into),
    db.prepare('DELETE FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from),
    db.prepare('UPDATE contact_aliases INDEXED BY contact_aliases_contact SET contact_id = ?3 WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from, into),
  ]
}

/** An id merged into a contact: when, how, and what that contact's own values were. */
export interface Alias {
  id: string
  mergedAt: number
  source: MergeSource
  kept: Record<string, unknown> | null
}

/** The ids merged into a contact, oldest first. */
export async function aliasesOf(db: D1Database, siteId: string, contactId: string): Promise<Alias[]> {
  const { results } = await db
    .prepare('SELECT alias_id, created_at, source, kept FROM contact_aliases INDEXED BY contact_aliases_contact WHERE site_id = ?1 AND contact_id = ?2 ORDER BY created_at, alias_id')
    .bind(siteId, contactId)
    .all<{ alias_id: string; created_at: number; source: MergeSource; kept: string | null }>()
  return results.map((r) => ({ id: r.alias_id, mergedAt: r.created_at, source: r.source, kept: r.kept === null ? null : JSON.parse(r.kept) }))
}

/** The contact an id stands for now: itself, or the contact it was merged into. */
export async function resolveAlias(db: D1Database, siteId: string, id: string): Promise<string | undefined> {
  const row = await db.prepare('SELECT contact_id FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2').bind(siteId, id).first<{ contact_id: string }>()
  return row?.contact_id
}

/**
 * A contact about to be merged into one on another shard, as its own shard has it: every row kept about
 * it, and the revision of its state (a writer that changes it after this is read stops the release).
 */
export interface Departing {
  id: string
  rows: ContactRows
  rev: number
}

/**
 * Reads a contact that is to be merged into one on another shard. A contact not written yet (its first
 * visit is still on its way) departs with nothing: its id still becomes an alias, and should a writer make
 * it meanwhile the release is refused (`NO_ROW`), to be tried again on what is then stored.
 */
export async function readDeparting(db: D1Database, siteId: string, id: string): Promise<Departing> {
  const rows = await readContactRows(db, siteId, [id])
  const contact = rows.contacts[0]
  return { id, rows, rev: contact ? Number(contact.state_rev) : NO_ROW }
}

/** The revision a departing contact not written yet is read at: any stored row's revision differs from one more. */
const NO_ROW = -2

/**
 * In the shard of `into`: takes in a contact merged from another shard, as statements for the transaction
 * that writes the merge. The first time, its rows are copied in under its own id and merged as on one
 * shard (`mergeContacts`). When this shard has the merge already (an earlier attempt wrote it, but the
 * contact's own shard could not let it go), only what can have arrived since is copied to `into`: its
 * activities and static memberships, each kept once. Either way, copying again changes nothing more.
 */
export function adoptDeparting(
  db: D1Database,
  siteId: string,
  departing: Departing,
  into: string,
  now: number,
  source: MergeSource,
  staticSegments: readonly string[],
  mergedHere: boolean,
): D1PreparedStatement[] {
  if (!mergedHere) return [...insertContactRows(db, departing.rows), ...mergeContacts(db, siteId, departing.id, into, now, source, staticSegments)]
  const statics = new Set(staticSegments)
  return [
    ...insertRows(db, 'events', departing.rows.events.map((e) => ({ ...e, contact_id: into }))),
    ...insertRows(db, 'segment_members', departing.rows.segment_members.filter((m) => statics.has(String(m.segment_id))).map((m) => ({ ...m, contact_id: into }))),
  ]
}

/**
 * In the merged contact's own shard, once the shard of `into` has the merge: its id becomes an alias of
 * `into` there (so nothing recreates it, and its id still finds `into`), and everything else of it goes.
 * Should a writer have changed it since it was read (`rev`), the whole transaction is refused as "contact
 * state moved", and the merge is tried again from what is then stored.
 */
export function releaseDeparting(db: D1Database, siteId: string, departing: Departing, into: string, now: number, source: MergeSource): D1PreparedStatement[] {
  const from = departing.id
  return [
    db.prepare('UPDATE contacts SET state_rev = ?3 + 1 WHERE site_id = ?1 AND id = ?2').bind(siteId, from, departing.rev),
    db
      .prepare(
        `INSERT INTO contact_aliases (site_id, alias_id, contact_id, created_at, source, kept)
         VALUES (?1, ?2, ?3, ?4, ?5, (SELECT ${KEPT_JSON} FROM contacts WHERE site_id = ?1 AND id = ?2))
         ON CONFLICT DO UPDATE SET contact_id = ?3, source = ?5, kept = coalesce(excluded.kept, contact_aliases.kept)`,
      )
      .bind(siteId, from, into, now, source),
    repointAliases(db, siteId, from, into),
    ...deleteContactRows(db, siteId, [from]),
  ]
}

/** Ids that pointed at `from` point at `into` (an alias row lives in its own id's shard and in its contact's). */
export function repointAliases(db: D1Database, siteId: string, from: string, into: string): D1PreparedStatement {
  return db.prepare('UPDATE contact_aliases INDEXED BY contact_aliases_contact SET contact_id = ?3 WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from, into)
}
