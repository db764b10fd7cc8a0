/**
 * Pruning what a site keeps past its retention: activities older than it (and the visits kept as dead
 * letters, which hold activities too), and anonymous contacts not seen for longer, with everything kept
 * about them. Each statement takes a bounded chunk and finds it through an index on the site and the age,
 * so a chunk costs what it deletes, not the size of the site.
 */
import { ACTIVITY_TYPES } from '../conditions/types'

// One seek per type into events_type (site_id, type, at): the oldest of each type come first, and no
// index on (site_id, at) is kept for every event only for the cron's sake.
const TYPES = ACTIVITY_TYPES.map((t) => `'${t}'`).join(', ')

/**
 * Deletes up to `chunk` of a site's activities that happened before `before` (epoch ms); `meta.changes`
 * says how many went.
 */
export function pruneActivities(db: D1Database, siteId: string, before: number, chunk: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM events WHERE (site_id, contact_id, id) IN
         (SELECT site_id, contact_id, id FROM events INDEXED BY events_type
          WHERE site_id = ?1 AND type IN (${TYPES}) AND at < ?2 LIMIT ?3)`,
    )
    .bind(siteId, before, chunk)
}

/**
 * Drops the kept aggregates of the contacts whose activities `pruneActivities` deletes next (the same
 * chunk: run it just before, in the same batch), so that what they count is worked out again from the
 * activities still kept, as SQL counts them.
 */
export function forgetPrunedAggregates(db: D1Database, siteId: string, before: number, chunk: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE contacts SET aggregates = NULL, state_rev = state_rev + 1 WHERE site_id = ?1 AND id IN
         (SELECT contact_id FROM events INDEXED BY events_type WHERE site_id = ?1 AND type IN (${TYPES}) AND at < ?2 LIMIT ?3)`,
    )
    .bind(siteId, before, chunk)
}

/**
 * Deletes up to `chunk` of a site's dead letters kept since before `before`: the visits they hold are
 * past the retention of activities too.
 */
export function pruneDeadLetters(db: D1Database, siteId: string, before: number, chunk: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM dead_letters WHERE id IN
         (SELECT id FROM dead_letters INDEXED BY dead_letters_site WHERE site_id = ?1 AND created_at < ?2 LIMIT ?3)`,
    )
    .bind(siteId, before, chunk)
}

/**
 * The anonymous contacts of a site (no email, no external id, no verified identifier kept from a merge)
 * last seen before ?2 — or made before it, when never seen — oldest first, ?3 at most. Within one
 * transaction every statement that reads it sees the same contacts, as long as the contacts themselves
 * are deleted last.
 */
const STALE_ANONYMOUS = `
  SELECT c.id FROM contacts c INDEXED BY contacts_anonymous_seen
  WHERE c.site_id = ?1 AND c.email IS NULL AND c.external_id IS NULL AND coalesce(c.last_seen_at, c.created_at) < ?2
    AND NOT EXISTS (SELECT 1 FROM contact_identities i WHERE i.site_id = ?1 AND i.contact_id = c.id AND i.verified = 1)
  ORDER BY coalesce(c.last_seen_at, c.created_at), c.id
  LIMIT ?3`

/**
 * Statements, to run as one batch on a shard, that delete up to `chunk` anonymous contacts of a site not
 * seen since `before`, with what erasure deletes of a contact — activities, memberships, limitation
 * counters, kept identifiers (unverified ones: a verified one makes the contact known), the ids merged into
 * them with what those merges kept, dead letters where the shard is the control database (`control`) — except that
 * their ids are not remembered as erased: a browser that comes back after that long simply starts a new
 * contact. The first two statements name the contacts (`id`) and the ids merged into them (`alias_id`), for
 * what lives elsewhere (`pruneElsewhere`); the last statement's `meta.changes` is how many contacts went.
 */
export function pruneAnonymousContacts(db: D1Database, siteId: string, before: number, chunk: number, control = false): D1PreparedStatement[] {
  const of = (sql: string) => db.prepare(sql.replaceAll('$STALE', STALE_ANONYMOUS)).bind(siteId, before, chunk)
  return [
    of('$STALE'),
    of('SELECT alias_id FROM contact_aliases INDEXED BY contact_aliases_contact WHERE site_id = ?1 AND contact_id IN ($STALE)'),
    ...(control
      ? [
          of('DELETE FROM dead_letters INDEXED BY dead_letters_contact WHERE site_id = ?1 AND contact_id IN ($STALE)'),
          of(`DELETE FROM dead_letters INDEXED BY dead_letters_contact WHERE site_id = ?1 AND contact_id IN
                (SELECT alias_id FROM contact_aliases INDEXED BY contact_aliases_contact WHERE site_id = ?1 AND contact_id IN ($STALE))`),
        ]
      : []),
    of('DELETE FROM segment_members INDEXED BY segment_members_contact WHERE site_id = ?1 AND contact_id IN ($STALE)'),
    of('DELETE FROM events WHERE site_id = ?1 AND contact_id IN ($STALE)'),
    of('DELETE FROM workflow_counters WHERE site_id = ?1 AND contact_id IN ($STALE)'),
    of('DELETE FROM contact_identities WHERE site_id = ?1 AND contact_id IN ($STALE)'),
    of('DELETE FROM contact_aliases INDEXED BY contact_aliases_contact WHERE site_id = ?1 AND contact_id IN ($STALE)'),
    of('DELETE FROM contacts WHERE site_id = ?1 AND id IN ($STALE)'),
  ]
}

/**
 * What pruned contacts leave on another database than their shard: on another shard of the site, the
 * alias rows of the ids merged into them (each is kept on its own id's shard too); in the control
 * database, their dead letters and their aliases'.
 */
export function pruneElsewhere(db: D1Database, siteId: string, contactIds: readonly string[], aliasIds: readonly string[], control: boolean): D1PreparedStatement[] {
  if (contactIds.length === 0) return []
  const ids = JSON.stringify([...contactIds, ...aliasIds])
  if (control) return [db.prepare('DELETE FROM dead_letters INDEXED BY dead_letters_contact WHERE site_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2))').bind(siteId, ids)]
  return [
    db.prepare('DELETE FROM contact_aliases INDEXED BY contact_aliases_contact WHERE site_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2))').bind(siteId, JSON.stringify(contactIds)),
    db.prepare('DELETE FROM contact_aliases WHERE site_id = ?1 AND alias_id IN (SELECT value FROM json_each(?2))').bind(siteId, JSON.stringify(aliasIds)),
  ]
}
