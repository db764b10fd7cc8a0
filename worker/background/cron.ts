/**
 * The scheduled pass: conditions that depend on time ("visited in the last 30 days", "last seen more than
 * 90 days ago") change verdict with no event at all. Every such segment, and every segment that reads one,
 * is recomputed over the whole site in SQL; the contacts whose membership moved get their snapshots
 * rebuilt through the queue. Erased contacts' ids are forgotten once no token or queued visit can name them,
 * and the ids of written messages once no queue can deliver them again.
 */
import { pruneErased } from '../data/erasure'
import { pruneProcessed } from '../data/processed'
import { type Site, listSites } from '../data/sites'
import { refreshStatements } from '../segments/membership'
import { compileSite, reachedConfigSegments } from '../visits/compile'
import { Changes, propagate } from './changes'
import { buildSiteConfig } from './publish'
import { pruneSite } from './retention'
import { ERASED_MARK_TTL_S } from './store'

/** A queue redelivers a message for at most about 100 minutes (100 retries, a minute apart at most). */
const PROCESSED_KEPT_MS = 24 * 60 * 60_000
const PRUNE_CHUNK = 5_000
const PRUNE_ROUNDS = 20

export async function runScheduled(env: Env, now = Date.now()): Promise<{ moved: number }> {
  let moved = 0
  const failed: unknown[] = []
  for (const site of await listSites(env.DB)) {
    // Each site on its own: one that fails holds back neither the others nor the pruning.
    try {
      moved += await refreshSite(env, site, now)
      await pruneSite(env, site, now)
    } catch (err) {
      console.error(`cron: site ${site.id} could not be refreshed`, err)
      failed.push(err)
    }
  }
  // In bounded chunks, a few a run: a backlog shrinks run by run without a long statement.
  for (let i = 0; i < PRUNE_ROUNDS; i++) {
    const [erased, processed] = await env.DB.batch([pruneErased(env.DB, now - ERASED_MARK_TTL_S * 1000, PRUNE_CHUNK), pruneProcessed(env.DB, now - PROCESSED_KEPT_MS, PRUNE_CHUNK)])
    if (erased.meta.changes < PRUNE_CHUNK && processed.meta.changes < PRUNE_CHUNK) break
  }
  if (failed.length > 0) throw new AggregateError(failed, `cron: ${failed.length} site(s) could not be refreshed`)
  return { moved }
}

/** Recomputes a site's time-dependent segments and propagates what moved; answers how many contacts did. */
async function refreshSite(env: Env, site: Site, now: number): Promise<number> {
  const config = await buildSiteConfig(env.DB, site.id, now)
  if (!config) return 0
  const changes = new Changes()
  const ordered = reachedConfigSegments(compileSite(config), { time: true })
  let moved = 0
  if (ordered.length > 0) {
    const results = await env.DB.batch(refreshStatements(env.DB, site, ordered, now, undefined, true))
    const contacts = new Set(results.flatMap((r) => (r.results as Array<{ contact_id: string }>).map((row) => row.contact_id)))
    moved = contacts.size
    changes.contacts(site.id, contacts)
  }
  // Published again as built now, so that every isolate's time-dependent verdicts start from the same point.
  changes.siteConfig(site, config)
  await propagate(env, changes)
  return moved
}
