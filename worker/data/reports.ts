/** Counts for the console's overview: content shown, clicked and closed, by content and by workflow. */
import { type SiteData } from './shards'

export interface ActionCounts {
  key: string
  action: 'shown' | 'clicked' | 'closed'
  last7: number
  last30: number
}

/**
 * Content events of the last 30 days, grouped by `by` (the content, or the workflow that showed it),
 * with how many fell in the last 7: counted on each shard of the site, and summed.
 */
export async function contentCounts(data: SiteData, by: 'content' | 'workflow', now: number): Promise<ActionCounts[]> {
  const found = await data.each((db) => contentCountsOn(db, data.siteId, by, now))
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
async function contentCountsOn(db: D1Database, siteId: string, by: 'content' | 'workflow', now: number): Promise<ActionCounts[]> {
  const key = by === 'content' ? 'content_id' : `json_extract(props, '$.workflow')`
  const { results } = await db
    .prepare(
      `SELECT ${key} AS key, name AS action, sum(at >= ?2) AS last7, count(*) AS last30
       FROM events WHERE site_id = ?1 AND type = 'content' AND at >= ?3 AND ${key} IS NOT NULL
       GROUP BY 1, 2`,
    )
    .bind(siteId, now - 7 * 86_400_000, now - 30 * 86_400_000)
    .all<ActionCounts>()
  return results
}
