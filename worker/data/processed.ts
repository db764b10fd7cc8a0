/**
 * The visit messages the consumer has written. A message delivered again is recognised and not written
 * twice; limitation counters are added only by the transaction that records the message (its `attempt`).
 */
import { type SiteData } from './shards'

/**
 * Which of these message ids are written already. A message is recorded on the shard it was written to,
 * which a merge can make another than its contact's: every shard of the site is asked, in one call each.
 */
export async function processedAmong(data: SiteData, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const found = await data.each(async (db) => {
    const { results } = await db
      .prepare('SELECT id FROM processed_messages WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))')
      .bind(data.siteId, JSON.stringify(ids))
      .all<{ id: string }>()
    return results.map((r) => r.id)
  })
  return new Set(found.flat())
}

/** Records a message as written by this attempt; a message already recorded keeps its first attempt. */
export function recordProcessed(db: D1Database, siteId: string, id: string, attempt: string, now: number): D1PreparedStatement {
  return db
    .prepare('INSERT INTO processed_messages (site_id, id, attempt, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING')
    .bind(siteId, id, attempt, now)
}

/** Forgets messages older than `before` (no queue delivers one that late), a bounded chunk a statement. */
export function pruneProcessed(db: D1Database, before: number, chunk: number): D1PreparedStatement {
  return db
    .prepare('DELETE FROM processed_messages WHERE (site_id, id) IN (SELECT site_id, id FROM processed_messages WHERE at < ?1 LIMIT ?2)')
    .bind(before, chunk)
}
