/**
 * The scheduled pass, every 15 minutes. Conditions that depend on time ("visited in the last 30 days",
 * "last seen more than 90 days ago") change verdict with no event at all, and what a site keeps ages past
 * its retention. The pass itself only hands each site to the queue, one message a site, so that however
 * many sites there are no invocation exceeds Cloudflare's limits; each site's message then recomputes its
 * time-dependent segments (and every segment that reads one) in SQL, queues snapshot rebuilds for the
 * contacts whose membership moved, publishes its config and prunes it (worker/background/retention.ts).
 * The pass also forgets erased contacts' ids once no token or queued visit can name them, and the ids of
 * written messages once no queue can deliver them again, and keeps D1's query planner statistics fresh.
 */
import { pruneErased } from '../data/erasure'
import { pruneProcessed } from '../data/processed'
import { getSite, listSites } from '../data/sites'
import { optimize } from '../data/maintenance'
import { database, shardNames, siteData } from '../data/shards'
import { countMembersFor, pruneSegmentDays } from '../data/trends'
import { TREND_DAYS } from '../segments/trends'
import { refreshStatements } from '../segments/membership'
import { compileSite, reachedConfigSegments } from '../visits/compile'
import { Changes, propagate } from './changes'
import { type CronMessage } from './messages'
import { buildSiteConfig } from './publish'
import { sendAll } from './refresh'
import { type Pruned, pruneSite } from './retention'
import { ERASED_MARK_TTL_S } from './store'

/** A queue redelivers a message for at most about 100 minutes (100 retries, a minute apart at most). */
const PROCESSED_KEPT_MS = 24 * 60 * 60_000
const PRUNE_CHUNK = 5_000
const PRUNE_ROUNDS = 20

/** Hands every site to the queue and does the deployment-wide upkeep; answers how many sites it handed. */
export async function runScheduled(env: Env, now = Date.now()): Promise<{ sites: number }> {
  const sites = await listSites(env.DB)
  await sendAll(env.EVENTS, sites.map((site) => ({ body: { kind: 'cron', siteId: site.id, at: now } satisfies CronMessage })))
  // Every database, the control one first (it also holds the data of sites placed before shards).
  for (const db of [env.DB, ...shardNames(env).map((name) => database(env, name))]) {
    // In bounded chunks, a few a run: a backlog shrinks run by run without a long statement.
    for (let i = 0; i < PRUNE_ROUNDS; i++) {
      const [erased, processed] = await db.batch([pruneErased(db, now - ERASED_MARK_TTL_S * 1000, PRUNE_CHUNK), pruneProcessed(db, now - PROCESSED_KEPT_MS, PRUNE_CHUNK)])
      if (erased.meta.changes < PRUNE_CHUNK && processed.meta.changes < PRUNE_CHUNK) break
    }
    await optimize(db)
  }
  return { sites: sites.length }
}

/**
 * One site's share of a scheduled pass, at the pass's time `now`: its time-dependent segments recomputed
 * and propagated, then pruned. Answers how many contacts' memberships moved, and what was pruned.
 */
export async function cronSite(env: Env, siteId: string, now: number): Promise<{ moved: number; pruned?: Pruned }> {
  const site = await getSite(env.DB, siteId)
  const config = site && (await buildSiteConfig(env.DB, site.id, now))
  if (!site || !config) return { moved: 0 }
  // A site moving to other shards is left alone until it has arrived: the next pass recomputes and prunes it.
  if (site.movingTo) return { moved: 0 }
  const changes = new Changes()
  const ordered = reachedConfigSegments(compileSite(config), { time: true })
  let moved = 0
  if (ordered.length > 0) {
    // Each shard recomputes its own contacts, in one transaction.
    const results = await siteData(env, site).each((db) => db.batch(refreshStatements(db, site, ordered, now, undefined, true)))
    const contacts = new Set(results.flat().flatMap((r) => (r.results as Array<{ contact_id: string }>).map((row) => row.contact_id)))
    moved = contacts.size
    changes.contacts(site.id, contacts)
  }
  // Each segment's member count for today, and trends past what they keep dropped: one call on each shard.
  const today = Math.floor(now / 86_400_000)
  const segmentIds = config.segments.map((s) => s.id)
  await siteData(env, site).each((db) => db.batch([countMembersFor(db, site.id, segmentIds, today), pruneSegmentDays(db, site.id, today - TREND_DAYS)]))
  // Published again as built now, so that every isolate's time-dependent verdicts start from the same point.
  changes.siteConfig(site, config)
  await propagate(env, changes)
  return { moved, pruned: await pruneSite(env, site, now) }
}
