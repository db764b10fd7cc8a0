/**
 * The segment_members table: which contacts are in which segment, since when and why (by hand, by a
 * workflow, by a rule), and the statements that bring a dynamic segment in line with its compiled condition.
 */
import { type Contact, toContact } from './contacts'
import { type SiteData } from './shards'

export type MemberSource = 'manual' | 'workflow' | 'rule'

export interface Membership {
  segmentId: string
  since: number
  source: MemberSource
}

/** The segments a contact is in. */
export async function membershipsOf(db: D1Database, siteId: string, contactId: string): Promise<Membership[]> {
  const { results } = await db
    // INDEXED BY: without statistics SQLite would rather walk the site's memberships by primary key.
    .prepare('SELECT segment_id, since, source FROM segment_members INDEXED BY segment_members_contact WHERE site_id = ?1 AND contact_id = ?2 ORDER BY segment_id')
    .bind(siteId, contactId)
    .all<{ segment_id: string; since: number; source: MemberSource }>()
  return results.map((r) => ({ segmentId: r.segment_id, since: r.since, source: r.source }))
}

/** A page of a segment's members on one shard, in contact id order (see `membersAcross` for a site's). */
export async function membersOf(
  db: D1Database,
  siteId: string,
  segmentId: string,
  opts: { after?: string; limit: number },
): Promise<{ members: Array<{ contact: Contact; since: number; source: MemberSource }>; last?: string }> {
  const { results } = await db
    .prepare(
      `SELECT c.*, m.since AS member_since, m.source AS member_source
       FROM segment_members m JOIN contacts c ON c.site_id = m.site_id AND c.id = m.contact_id
       WHERE m.site_id = ?1 AND m.segment_id = ?2 AND (?3 IS NULL OR m.contact_id > ?3)
       ORDER BY m.contact_id LIMIT ?4`,
    )
    .bind(siteId, segmentId, opts.after ?? null, opts.limit + 1)
    .all<Parameters<typeof toContact>[0] & { member_since: number; member_source: MemberSource }>()
  const members = results.slice(0, opts.limit).map((r) => ({ contact: toContact(r), since: r.member_since, source: r.member_source }))
  const tail = members[members.length - 1]
  return { members, last: results.length > opts.limit && tail ? tail.contact.id : undefined }
}

/** Adds a contact to a segment; a contact already in it keeps its original since and source. */
export function addMember(db: D1Database, siteId: string, segmentId: string, contactId: string, source: MemberSource, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segment_members (site_id, segment_id, contact_id, since, source) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT DO NOTHING`,
    )
    .bind(siteId, segmentId, contactId, now, source)
}

/** No newer visit than `v` was written to the contact `?3` (see updateContacts). */
const NOT_OVERTAKEN = 'NOT EXISTS (SELECT 1 FROM contacts WHERE site_id = ?1 AND id = ?3 AND written_v > ?6)'

/**
 * Adds a contact to a static segment (the caller checks it is one, in the site's config): the edge's
 * workflow actions, from the visit of version `visit` (left alone when a newer visit was written to the contact).
 */
export function addStaticMember(db: D1Database, siteId: string, segmentId: string, contactId: string, source: MemberSource, now: number, visit: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segment_members (site_id, segment_id, contact_id, since, source)
       SELECT ?1, ?2, ?3, ?4, ?5 WHERE ${NOT_OVERTAKEN}
       ON CONFLICT DO NOTHING`,
    )
    .bind(siteId, segmentId, contactId, now, source, visit)
}

/** Takes a contact out of a segment; with `visit`, only if no newer visit was written to the contact. */
export function removeMember(db: D1Database, siteId: string, segmentId: string, contactId: string, visit = Number.MAX_SAFE_INTEGER): D1PreparedStatement {
  return db
    .prepare(`DELETE FROM segment_members WHERE site_id = ?1 AND segment_id = ?2 AND contact_id = ?3 AND ${NOT_OVERTAKEN.replace('?6', '?4')}`)
    .bind(siteId, segmentId, contactId, visit)
}

/**
 * Brings a dynamic segment's membership in line with its compiled condition (`where`, an expression over
 * contacts aliased `c`): removes members that no longer meet it and adds contacts that do. With
 * `contactIds` only those contacts are looked at; without, the whole site. SQLite's `changes()` after
 * each of the two statements is the removals and the additions (`meta.changes` also counts what the
 * trend triggers of migration 0017 write); with `returning`, their rows name the contacts.
 */
export function refreshMembers(
  db: D1Database,
  siteId: string,
  segmentId: string,
  where: string,
  now: number,
  contactIds?: readonly string[],
  returning = false,
): [remove: D1PreparedStatement, add: D1PreparedStatement] {
  const back = returning ? 'RETURNING contact_id' : ''
  const ids = contactIds ? [JSON.stringify(contactIds)] : []
  const onlyContacts = (param: string) => (contactIds ? `AND c.id IN (SELECT value FROM json_each(${param}))` : '')
  return [
    db
      .prepare(
        `DELETE FROM segment_members WHERE site_id = ?1 AND segment_id = ?2
           ${contactIds ? 'AND contact_id IN (SELECT value FROM json_each(?3))' : ''}
           AND contact_id NOT IN (SELECT c.id FROM contacts c WHERE c.site_id = ?1 ${onlyContacts('?3')} AND ${where}) ${back}`,
      )
      .bind(siteId, segmentId, ...ids),
    db
      .prepare(
        `INSERT INTO segment_members (site_id, segment_id, contact_id, since, source)
         SELECT c.site_id, ?2, c.id, ?3, 'rule' FROM contacts c WHERE c.site_id = ?1 ${onlyContacts('?4')} AND ${where}
         ON CONFLICT DO NOTHING ${back}`,
      )
      .bind(siteId, segmentId, now, ...ids),
  ]
}

/** Deletes a segment's memberships on one shard. */
export function deleteMemberships(db: D1Database, siteId: string, segmentId: string): D1PreparedStatement[] {
  return [db.prepare('DELETE FROM segment_members WHERE site_id = ?1 AND segment_id = ?2').bind(siteId, segmentId)]
}

/**
 * A page of a segment's members over all of a site's shards, in contact id order: each shard gives its
 * next page after the cursor, and the pages are merged. The cursor is the last contact id, as on one shard.
 */
export async function membersAcross(
  data: SiteData,
  segmentId: string,
  opts: { after?: string; limit: number },
): Promise<{ members: Array<{ contact: Contact; since: number; source: MemberSource }>; last?: string }> {
  const pages = await data.each((db) => membersOf(db, data.siteId, segmentId, opts))
  const all = pages.flatMap((p) => p.members).sort((a, b) => (a.contact.id < b.contact.id ? -1 : a.contact.id > b.contact.id ? 1 : 0))
  const members = all.slice(0, opts.limit)
  const more = all.length > opts.limit || pages.some((p) => p.last !== undefined)
  return { members, last: more && members.length > 0 ? members[members.length - 1].contact.id : undefined }
}
