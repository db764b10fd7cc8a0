/**
 * Counts for the console's overview: content shown, clicked and closed, by content and by workflow, and the
 * conversions it led to: contacts who bought within the attribution window after they were first shown it,
 * and what they spent.
 */
import { type SiteData } from './shards'
import { type Conversion, type Site } from './sites'

export interface ActionCounts {
  key: string
  action: 'shown' | 'clicked' | 'closed' | 'converted' | 'revenue'
  last7: number
  last30: number
}

/**
 * What a site's reports count as a conversion: its conversion event (a purchase, or the custom event the
 * owner chose: site setting `conversion`), within `windowMs` (site setting `attributionDays`) after the
 * contact was first shown the content.
 */
export interface Attribution {
  windowMs: number
  conversion: Conversion
}

export const attributionOf = (site: Pick<Site, 'attributionDays' | 'conversion'>): Attribution => ({ windowMs: site.attributionDays * 86_400_000, conversion: site.conversion })

/** The SQL parameters that select the conversion event: its type, and a custom event's name (NULL for a purchase). */
const conversionParams = (a: Attribution) => [a.conversion.type, a.conversion.type === 'custom' ? a.conversion.name : null] as const

/**
 * Content events of the last 30 days, grouped by `by` (the content, or the workflow that showed it),
 * with how many fell in the last 7, and the conversions of the contacts shown it then (`converted`:
 * contacts whose conversion event came within the attribution window after they were first shown it;
 * `revenue`: the amounts those events carried): counted on each shard of the site, and summed.
 */
export async function contentCounts(data: SiteData, by: 'content' | 'workflow', now: number, attribution: Attribution): Promise<ActionCounts[]> {
  const found = await data.each((db) => contentCountsOn(db, data.siteId, by, now, attribution))
  const sums = new Map<string, ActionCounts>()
  for (const row of found.flat()) {
    const key = `${row.key}\u0000${row.action}`
    const sum = sums.get(key)
    if (sum) {
      sum.last7 += row.last7
      sum.last30 += row.last30
    } else sums.set(key, { ...row })
  }
  return [...sums.values()]
}

/** One shard's share of `contentCounts`. */
async function contentCountsOn(db: D1Database, siteId: string, by: 'content' | 'workflow', now: number, attribution: Attribution): Promise<ActionCounts[]> {
  const key = by === 'content' ? 'content_id' : `json_extract(props, '$.workflow')`
  const [actions, conversions] = await db.batch([
    db
      .prepare(
        `SELECT ${key} AS key, name AS action, sum(at >= ?2) AS last7, count(*) AS last30
         FROM events WHERE site_id = ?1 AND type = 'content' AND at >= ?3 AND ${key} IS NOT NULL
         GROUP BY 1, 2`,
      )
      .bind(siteId, now - 7 * 86_400_000, now - 30 * 86_400_000),
    db
      .prepare(
        `WITH shown AS (
           SELECT ${key} AS key, contact_id, min(at) AS at FROM events INDEXED BY events_type
           WHERE site_id = ?1 AND type = 'content' AND name = 'shown' AND at >= ?3 AND ${key} IS NOT NULL GROUP BY 1, 2),
         bought AS (
           SELECT s.key, s.contact_id, s.at, sum(p.amount_milli) AS milli FROM shown s JOIN events p INDEXED BY events_contact
             ON p.site_id = ?1 AND p.contact_id = s.contact_id AND p.type = ?5 AND (?6 IS NULL OR p.name = ?6) AND p.at >= s.at AND p.at < s.at + ?4
           GROUP BY 1, 2)
         SELECT key, 'converted' AS action, sum(at >= ?2) AS last7, count(*) AS last30 FROM bought GROUP BY 1
         UNION ALL
         SELECT key, 'revenue', coalesce(sum(CASE WHEN at >= ?2 THEN milli END), 0) / 1000.0, coalesce(sum(milli), 0) / 1000.0 FROM bought GROUP BY 1`,
      )
      .bind(siteId, now - 7 * 86_400_000, now - 30 * 86_400_000, attribution.windowMs, ...conversionParams(attribution)),
  ])
  return [...(actions.results as ActionCounts[]), ...(conversions.results as ActionCounts[])]
}

/** What one shard counts of an A/B test's variants: contacts exposed, content actions, conversions. */
export interface VariantShardCounts {
  exposed: Map<string, number>
  actions: Map<string, Record<'shown' | 'clicked' | 'closed', number>>
  conversions: Map<string, { contacts: number; revenueMilli: number }>
}

/**
 * An A/B test node's figures on one shard, by variant: the contacts it reached (their counters), the
 * contacts that were shown, clicked or closed the workflow's content (content events carry the variant),
 * and the contacts whose conversion event came within the attribution window after they were first shown it, with
 * the amounts it carried.
 * Reads the site's content events through events_type (site, type, time) and each such contact's
 * purchases through events_contact.
 */
export async function abTestCounts(db: D1Database, siteId: string, workflowId: string, nodeId: string, attribution: Attribution): Promise<VariantShardCounts> {
  const variant = `json_extract(props, '$.variants.' || ?3)`
  const [exposed, actions, conversions] = await db.batch([
    db
      .prepare(`SELECT substr(node_id, length(?3) + 2) AS v, count(*) AS n FROM workflow_counters WHERE site_id = ?1 AND workflow_id = ?2 AND node_id LIKE ?3 || ':%' GROUP BY 1`)
      .bind(siteId, workflowId, nodeId),
    db
      .prepare(
        `SELECT ${variant} AS v, name AS action, count(DISTINCT contact_id) AS n FROM events INDEXED BY events_type
         WHERE site_id = ?1 AND type = 'content' AND json_extract(props, '$.workflow') = ?2 AND ${variant} IS NOT NULL GROUP BY 1, 2`,
      )
      .bind(siteId, workflowId, nodeId),
    db
      .prepare(
        `WITH shown AS (
           SELECT contact_id, ${variant} AS v, min(at) AS at FROM events INDEXED BY events_type
           WHERE site_id = ?1 AND type = 'content' AND name = 'shown' AND json_extract(props, '$.workflow') = ?2 AND ${variant} IS NOT NULL
           GROUP BY contact_id, v)
         SELECT s.v AS v, count(DISTINCT p.contact_id) AS contacts, coalesce(sum(p.amount_milli), 0) AS revenue
         FROM shown s JOIN events p INDEXED BY events_contact
           ON p.site_id = ?1 AND p.contact_id = s.contact_id AND p.type = ?5 AND (?6 IS NULL OR p.name = ?6) AND p.at >= s.at AND p.at < s.at + ?4
         GROUP BY s.v`,
      )
      .bind(siteId, workflowId, nodeId, attribution.windowMs, ...conversionParams(attribution)),
  ])
  const out: VariantShardCounts = { exposed: new Map(), actions: new Map(), conversions: new Map() }
  for (const r of exposed.results as Array<{ v: string; n: number }>) out.exposed.set(r.v, r.n)
  for (const r of actions.results as Array<{ v: string; action: 'shown' | 'clicked' | 'closed'; n: number }>) {
    const a = out.actions.get(r.v) ?? { shown: 0, clicked: 0, closed: 0 }
    if (r.action in a) a[r.action] += r.n
    out.actions.set(r.v, a)
  }
  for (const r of conversions.results as Array<{ v: string; contacts: number; revenue: number }>) out.conversions.set(r.v, { contacts: r.contacts, revenueMilli: r.revenue })
  return out
}
