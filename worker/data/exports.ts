/**
 * Contacts read for a CSV export, a page at a time on one shard, in contact id order through the site's
 * own keys: a search's matches (the contacts table's primary key) or a segment's members (segment_members'
 * primary key). Each page starts right after the last id of the one before, so a page reads about as many
 * rows as it gives, however far into the site it is.
 */
import { type Contact, type ContactRow, matchesSearch, searchPattern, toContact } from './contacts'

export interface ExportFilter {
  /** Only this segment's members. */
  segment?: string
  /** Only contacts this search matches (as the contact list's search does). */
  q?: string
}

/** The next `limit` contacts of a site on one shard after contact id `after` ('' for the first page) that `filter` keeps. */
export async function exportPage(db: D1Database, siteId: string, filter: ExportFilter, after: string, limit: number): Promise<Contact[]> {
  const statement =
    filter.segment === undefined
      ? db
          .prepare(`SELECT * FROM contacts WHERE site_id = ?1 AND id > ?2 AND ${matchesSearch('?3', '?4')} ORDER BY id LIMIT ?5`)
          .bind(siteId, after, searchPattern(filter.q), filter.q ?? null, limit)
      : db
          .prepare(
            // The search's columns are all the contact's: segment_members has none of those names.
            `SELECT c.* FROM segment_members m JOIN contacts c ON c.site_id = m.site_id AND c.id = m.contact_id
             WHERE m.site_id = ?1 AND m.segment_id = ?2 AND m.contact_id > ?3 AND ${matchesSearch('?4', '?5')}
             ORDER BY m.contact_id LIMIT ?6`,
          )
          .bind(siteId, filter.segment, after, searchPattern(filter.q), filter.q ?? null, limit)
  const { results } = await statement.all<ContactRow>()
  return results.map(toContact)
}
