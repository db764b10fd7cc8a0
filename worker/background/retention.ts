/**
 * Pruning one site past its retention: activities older than it keeps them (and dead letters as old, and
 * the workflows' live counts older than 30 days), then
 * anonymous contacts not seen for longer than it keeps them, with everything about them. A bounded amount
 * of work a call — a fixed number of chunks, each found through indexes on the site and the age — so a
 * backlog (a site's first run, a retention just shortened) shrinks call by call; the answer says whether
 * any is left.
 */
import { forgetPrunedAggregates, pruneActivities, pruneAnonymousContacts, pruneDeadLetters, pruneElsewhere } from '../data/retention'
import { pruneNodeRegisters } from '../data/flow'
import { siteData } from '../data/shards'
import { type Site } from '../data/sites'

const DAY_MS = 86_400_000

/** Activities (and dead letters) deleted a round, and rounds a call. */
export const ACTIVITY_CHUNK = 2_000
export const ACTIVITY_ROUNDS = 10
/** Days of the workflows' live counts kept (worker/data/flow.ts), and their registers deleted a round. */
export const FLOW_DAYS = 30
export const REGISTER_CHUNK = 5_000
/** Anonymous contacts deleted a round (with all their activities), and rounds a call. */
export const CONTACT_CHUNK = 500
export const CONTACT_ROUNDS = 4

export interface Pruned {
  activities: number
  /** Registers of the workflows' live counts older than FLOW_DAYS. */
  registers: number
  deadLetters: number
  contacts: number
  /** The last round came back full: more may be past the retention, for the next call. */
  more: boolean
}

/**
 * Prunes a site at `now`, no KV: on each shard of the site, at most ACTIVITY_ROUNDS + CONTACT_ROUNDS D1
 * calls, and when its contact rounds pruned anything one call on every other shard (alias rows) and one on
 * the control database (dead letters); on the control database, up to ACTIVITY_ROUNDS for old dead letters. Windowed conditions
 * are unaffected: no dynamic segment may read further back than the retention (worker/conditions/reach.ts).
 * The contacts whose activities go have their kept aggregates dropped, so a count with no window counts
 * what is kept, in a snapshot as in SQL, from their next write.
 *
 * @example
 * const { more } = await pruneSite(env, site, Date.now())
 */
export async function pruneSite(env: Env, site: Site, now: number): Promise<Pruned> {
  const pruned: Pruned = { activities: 0, registers: 0, deadLetters: 0, contacts: 0, more: false }
  const activitiesBefore = now - site.retention.activityDays * DAY_MS
  const seenBefore = now - site.retention.anonymousContactDays * DAY_MS
  const lettersLeft = await whileFull(ACTIVITY_ROUNDS, async () => {
    const letters = await pruneDeadLetters(env.DB, site.id, activitiesBefore, ACTIVITY_CHUNK).run()
    pruned.deadLetters += letters.meta.changes
    return letters.meta.changes === ACTIVITY_CHUNK
  })
  // Each shard prunes its own contacts: the same rounds on each, one after the other.
  let shardsLeft = false
  const data = siteData(env, site)
  for (const shard of data.shards) {
    const db = shard.db
    const activitiesLeft = await whileFull(ACTIVITY_ROUNDS, async () => {
      const [, events, registers] = await db.batch([
        forgetPrunedAggregates(db, site.id, activitiesBefore, ACTIVITY_CHUNK),
        pruneActivities(db, site.id, activitiesBefore, ACTIVITY_CHUNK),
        // The workflows' live counts read 30 days back.
        pruneNodeRegisters(db, site.id, Math.floor(now / DAY_MS) - FLOW_DAYS, REGISTER_CHUNK),
      ])
      pruned.activities += events.meta.changes
      pruned.registers += registers.meta.changes
      return events.meta.changes === ACTIVITY_CHUNK || registers.meta.changes === REGISTER_CHUNK
    })
    const ids: string[] = []
    const aliases: string[] = []
    const contactsLeft = await whileFull(CONTACT_ROUNDS, async () => {
      const results = await db.batch(pruneAnonymousContacts(db, site.id, seenBefore, CONTACT_CHUNK, db === data.control))
      const contacts = results[results.length - 1].meta.changes
      pruned.contacts += contacts
      ids.push(...(results[0].results as Array<{ id: string }>).map((r) => r.id))
      aliases.push(...(results[1].results as Array<{ alias_id: string }>).map((r) => r.alias_id))
      return contacts === CONTACT_CHUNK
    })
    // What they leave elsewhere, once for the shard's rounds: dead letters in the control database, alias
    // rows on the other shards.
    if (ids.length > 0) {
      const others = data.shards.filter((s) => s !== shard)
      await Promise.all([
        ...(db === data.control ? [] : [data.control.batch(pruneElsewhere(data.control, site.id, ids, aliases, true))]),
        ...others.map((s) => s.db.batch(pruneElsewhere(s.db, site.id, ids, aliases, false))),
      ])
    }
    shardsLeft ||= activitiesLeft || contactsLeft
  }
  pruned.more = lettersLeft || shardsLeft
  return pruned
}

/** Runs a round up to `rounds` times, while each comes back full; answers whether the last one did. */
async function whileFull(rounds: number, round: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < rounds; i++) if (!(await round())) return false
  return true
}
