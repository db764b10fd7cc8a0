/** Counts for the console's overview: content shown, clicked and closed, by content and by workflow. */

export interface ActionCounts {
  key: string
  action: 'shown' | 'clicked' | 'closed'
  last7: number
  last30: number
}

/**
 * Content events of the last 30 days, grouped by `by` (the content, or the workflow that showed it),
 * with how many fell in the last 7.
 */
export async function contentCounts(db: D1Database, siteId: string, by: 'content' | 'workflow', now: number): Promise<ActionCounts[]> {
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
