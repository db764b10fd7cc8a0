/**
 * The events table: a contact's stored activities, inserted in bulk (each id once) and read back newest
 * first, or page by page in index order for an export.
 */
import { type Activity } from '../conditions/evaluate'
import { type ActivityType } from '../conditions/types'
import { jsonPayloads } from './json-rows'

/** An activity as stored: an Activity that belongs to a contact. */
export interface StoredActivity extends Activity {
  contactId: string
}

interface EventRow {
  id: string
  contact_id: string
  type: ActivityType
  at: number
  url: string | null
  title: string | null
  referrer: string | null
  name: string | null
  content_id: string | null
  order_id: string | null
  amount_milli: number | null
  currency: string | null
  props: string | null
}

function toActivity(r: EventRow): StoredActivity {
  const a: StoredActivity = { id: r.id, contactId: r.contact_id, type: r.type, at: r.at }
  if (r.url !== null) a.url = r.url
  if (r.title !== null) a.title = r.title
  if (r.referrer !== null) a.referrer = r.referrer
  if (r.name !== null) a.name = r.name
  if (r.content_id !== null) a.contentId = r.content_id
  if (r.order_id !== null) a.orderId = r.order_id
  if (r.amount_milli !== null) a.amountMilli = r.amount_milli
  if (r.currency !== null) a.currency = r.currency
  if (r.props !== null) a.props = JSON.parse(r.props)
  return a
}

/**
 * Stores activities, ignoring any whose id their contact already has (ids are unique per contact); the
 * sum of `meta.changes` of the statements is how many were new.
 */
export function insertActivities(db: D1Database, siteId: string, activities: StoredActivity[]): D1PreparedStatement[] {
  const rows = activities.map((a) => ({
    id: a.id, contact_id: a.contactId, type: a.type, at: a.at, url: a.url, title: a.title, referrer: a.referrer,
    name: a.name, content_id: a.contentId, order_id: a.orderId, amount_milli: a.amountMilli, currency: a.currency,
    props: a.props === undefined ? undefined : JSON.stringify(a.props),
  }))
  const columns = ['id', 'contact_id', 'type', 'at', 'url', 'title', 'referrer', 'name', 'content_id', 'order_id', 'amount_milli', 'currency', 'props']
  const statement = db.prepare(
    `INSERT INTO events (site_id, ${columns.join(', ')})
     SELECT ?1, ${columns.map((c) => `r.value ->> '$.${c}'`).join(', ')} FROM json_each(?2) r WHERE true
     ON CONFLICT (site_id, contact_id, id) DO NOTHING`,
  )
  return jsonPayloads(rows).map((payload) => statement.bind(siteId, payload))
}

/** A contact's activities, newest first; `types` narrows them, `before` pages back in time. */
export async function listActivities(
  db: D1Database,
  siteId: string,
  contactId: string,
  opts: { types?: readonly string[]; before?: [number, string]; limit?: number } = {},
): Promise<StoredActivity[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM events WHERE site_id = ?1 AND contact_id = ?2
         AND (?3 IS NULL OR type IN (SELECT value FROM json_each(?3)))
         AND (?4 IS NULL OR at < ?4 OR (at = ?4 AND id < ?5))
       ORDER BY at DESC, id DESC LIMIT ?6`,
    )
    .bind(siteId, contactId, opts.types ? JSON.stringify(opts.types) : null, opts.before?.[0] ?? null, opts.before?.[1] ?? null, opts.limit ?? -1)
    .all<EventRow>()
  return results.map(toActivity)
}

/**
 * A page of a contact's activities in the order of its index (type, then time, then id), after `after`:
 * each page is a seek in events_contact, however long the history.
 */
export async function activityPage(db: D1Database, siteId: string, contactId: string, after: Pick<StoredActivity, 'type' | 'at' | 'id'> | undefined, limit: number): Promise<StoredActivity[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM events WHERE site_id = ?1 AND contact_id = ?2 AND (type, at, id) > (?3, ?4, ?5)
       ORDER BY type, at, id LIMIT ?6`,
    )
    .bind(siteId, contactId, after?.type ?? '', after?.at ?? -1, after?.id ?? '', limit)
    .all<EventRow>()
  return results.map(toActivity)
}
