import { PROFILE_FIELDS } from './contacts'
import { SYSTEM_FIELDS } from '../conditions/fields'

/**
 * Merges contact `from` into contact `into`: activities move, static memberships and limitation counters
 * carry over, `into` keeps its own field values and takes `from`'s where it has none, and `from`'s id
 * (and every id that pointed at it) becomes an alias of `into`. Dynamic memberships are recomputed after.
 */
export function mergeContacts(db: D1Database, siteId: string, from: string, into: string, now: number): D1PreparedStatement[] {
  const fill = ['external_id', ...PROFILE_FIELDS.map((k) => SYSTEM_FIELDS[k].column)]
    .map((col) => `${col} = coalesce(contacts.${col}, f.${col})`)
    .join(', ')
  return [
    db
      .prepare(
        `UPDATE contacts SET ${fill}, custom = json_patch(f.custom, contacts.custom),
           created_at = min(contacts.created_at, f.created_at),
           last_seen_at = max(coalesce(contacts.last_seen_at, 0), coalesce(f.last_seen_at, 0))
         FROM (SELECT * FROM contacts WHERE site_id = ?1 AND id = ?2) f
         WHERE contacts.site_id = ?1 AND contacts.id = ?3`,
      )
      .bind(siteId, from, into),
    db.prepare('UPDATE events SET contact_id = ?3 WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from, into),
    db
      .prepare(
        `INSERT INTO segment_members (site_id, segment_id, contact_id, since, source)
         SELECT m.site_id, m.segment_id, ?3, m.since, m.source FROM segment_members m
         JOIN segments s ON s.site_id = m.site_id AND s.id = m.segment_id AND s.type = 'static'
         WHERE m.site_id = ?1 AND m.contact_id = ?2
         ON CONFLICT DO NOTHING`,
      )
      .bind(siteId, from, into),
    db.prepare('DELETE FROM segment_members WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from),
    db
      .prepare(
        `INSERT INTO workflow_counters (site_id, contact_id, workflow_id, node_id, runs, last_at)
         SELECT site_id, ?3, workflow_id, node_id, runs, last_at FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2
         ON CONFLICT DO UPDATE SET runs = workflow_counters.runs + excluded.runs, last_at = max(workflow_counters.last_at, excluded.last_at)`,
      )
      .bind(siteId, from, into),
    db.prepare('DELETE FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from),
    db.prepare('DELETE FROM contacts WHERE site_id = ?1 AND id = ?2').bind(siteId, from),
    db.prepare('UPDATE contact_aliases SET contact_id = ?3 WHERE site_id = ?1 AND contact_id = ?2').bind(siteId, from, into),
    db
      .prepare('INSERT INTO contact_aliases (site_id, alias_id, contact_id, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET contact_id = ?3')
      .bind(siteId, from, into, now),
  ]
}

/** The contact an id stands for now: itself, or the contact it was merged into. */
export async function resolveAlias(db: D1Database, siteId: string, id: string): Promise<string | undefined> {
  const row = await db.prepare('SELECT contact_id FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2').bind(siteId, id).first<{ contact_id: string }>()
  return row?.contact_id
}

/** The id of the contact that has this email, if any. */
export async function contactIdByEmail(db: D1Database, siteId: string, email: string): Promise<string | undefined> {
  const row = await db.prepare('SELECT id FROM contacts WHERE site_id = ?1 AND email = ?2').bind(siteId, email).first<{ id: string }>()
  return row?.id
}
