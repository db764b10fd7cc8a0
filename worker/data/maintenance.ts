/** Keeping D1 itself in shape: the query planner's statistics. */

/**
 * Refreshes the statistics SQLite's query planner works from, where they are missing or stale (cheap
 * when they are not), as Cloudflare recommends for D1.
 */
export async function optimize(db: D1Database): Promise<void> {
  await db.prepare('PRAGMA optimize').run()
}
