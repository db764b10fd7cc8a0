/**
 * Erasing a contact, and remembering which ids were erased so that nothing in flight brings one back.
 */
import { type SiteData } from './shards'

/** The ids merged into a contact: each still leads a browser to it, so each goes when it does. */
export async function aliasIdsOf(db: D1Database, siteId: string, contactId: string): Promise<string[]> {
  const { results } = await db
    .prepare('SELECT alias_id FROM contact_aliases INDEXED BY contact_aliases_contact WHERE site_id = ?1 AND contact_id = ?2')
    .bind(siteId, contactId)
    .all<{ alias_id: string }>()
  return results.map((r) => r.alias_id)
}

/**
 * Statements that erase a contact on its shard: its row (fields, identifiers, claims), activities,
 * memberships, limitation counters, kept identifiers and the aliases both ways (with what merges kept of
 * other contacts), leaving only its id and its aliases' ids as erased. The messages kept as dead letters
 * (in the control database) go with `dropDeadLettersOf`; aliases on other shards with `eraseAliases`.
 */
export function eraseContact(db: D1Database, siteId: string, contactId: string, now: number): D1PreparedStatement[] {
  // INDEXED BY: without statistics SQLite would rather walk the whole site by primary key (site_id, ...).
  const byContact = (table: string, index?: string) =>
    db.prepare(`DELETE FROM ${table}${index ? ` INDEXED BY ${index}` : ''} WHERE site_id = ?1 AND contact_id = ?2`).bind(siteId, contactId)
  return [
    db
      .prepare(
        `INSERT INTO erased_contacts (site_id, contact_id, erased_at)
         SELECT ?1, ?2, ?3 UNION ALL SELECT ?1, alias_id, ?3 FROM contact_aliases WHERE site_id = ?1 AND contact_id = ?2
         ON CONFLICT DO UPDATE SET erased_at = ?3`,
      )
      .bind(siteId, contactId, now),
    byContact('segment_members', 'segment_members_contact'),
    byContact('events'),
    byContact('workflow_counters'),
    byContact('contact_identities'),
    byContact('contact_aliases', 'contact_aliases_contact'),
    db.prepare('DELETE FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2').bind(siteId, contactId),
    db.prepare('DELETE FROM contacts WHERE site_id = ?1 AND id = ?2').bind(siteId, contactId),
  ]
}

/**
 * On another shard than the erased contact's: `aliasIds` (ids merged into it that live on this shard) are
 * remembered as erased here, and no alias here leads to it any more.
 */
export function eraseAliases(db: D1Database, siteId: string, contactId: string, aliasIds: readonly string[], now: number): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO erased_contacts (site_id, contact_id, erased_at) SELECT ?1, value, ?2 FROM json_each(?3) WHERE true
         ON CONFLICT DO UPDATE SET erased_at = ?2`,
      )
      .bind(siteId, now, JSON.stringify(aliasIds)),
    db.prepare('DELETE FROM contact_aliases WHERE site_id = ?1 AND alias_id IN (SELECT value FROM json_each(?2))').bind(siteId, JSON.stringify(aliasIds)),
    db.prepare('DELETE FROM contact_aliases INDEXED BY contact_aliases_contact WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, contactId),
  ]
}

/**
 * What these ids stand for in D1 now: the contact an id was merged into, null for an erased id; ids that
 * are neither are left out. Each id is looked up on its own shard, where its alias or erasure is kept.
 */
export async function movedOrErased(data: SiteData, ids: readonly string[]): Promise<Map<string, string | null>> {
  const found = await Promise.all(data.group(new Set(ids), (id) => id).map(([shard, list]) => movedOrErasedOn(shard.db, data.siteId, list)))
  return new Map(found.flatMap((m) => [...m]))
}

async function movedOrErasedOn(db: D1Database, siteId: string, ids: readonly string[]): Promise<Map<string, string | null>> {
  if (ids.length === 0) return new Map()
  const { results } = await db
    .prepare(
      `SELECT alias_id AS id, contact_id AS target FROM contact_aliases WHERE site_id = ?1 AND alias_id IN (SELECT value FROM json_each(?2))
       UNION ALL
       SELECT contact_id, NULL FROM erased_contacts WHERE site_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2))`,
    )
    .bind(siteId, JSON.stringify([...new Set(ids)]))
    .all<{ id: string; target: string | null }>()
  const out = new Map<string, string | null>()
  // An id can be both when an alias of an erased contact was erased with it: erased wins.
  for (const r of results) if (!out.has(r.id) || r.target === null) out.set(r.id, r.target)
  return out
}

/**
 * Forgets erasures older than `before`, past the time any token or queued message could name them: a
 * bounded chunk a statement (`meta.changes` says how many went).
 */
export function pruneErased(db: D1Database, before: number, chunk: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM erased_contacts WHERE (site_id, contact_id) IN
         (SELECT site_id, contact_id FROM erased_contacts WHERE erased_at < ?1 LIMIT ?2)`,
    )
    .bind(before, chunk)
}
