/**
 * Where snapshots live: KV for the edge's reads, rebuilt from D1 (the source of truth) by the consumer.
 */
import { type ContactState, contactStates, keepAggregates } from '../data/contact-state'
import { fieldValues } from '../data/contacts'
import { DEFAULT_RETENTION_DAYS } from '../data/sites'
import { listActivities } from '../data/events'
import { resolveAlias } from '../data/merge'
import { type SiteData } from '../data/shards'
import { type Scalar } from '../conditions/types'
import { type CompiledSite } from '../visits/compile'
import { type Snapshot, aggregateHistory } from '../visits/snapshot'
import { TOKEN_MAX_AGE_MS } from '../visits/token'

/**
 * What KV holds for a contact id: its snapshot, the contact it was merged into, or the mark of an erased
 * contact (kept as long as a state token of it could still be trusted, so no token brings it back).
 */
export type StoredSnapshot = Snapshot | { redirect: string } | { erased: number }

/** How long an erased contact's mark stays: past the age any token of it could have. */
export const ERASED_MARK_TTL_S = TOKEN_MAX_AGE_MS / 1000 + 24 * 60 * 60

const snapshotKey = (siteId: string, contactId: string) => `contact:${siteId}:${contactId}`

export async function readSnapshot(kv: KVNamespace, siteId: string, contactId: string): Promise<StoredSnapshot | null> {
  return kv.get<StoredSnapshot>(snapshotKey(siteId, contactId), 'json')
}

/**
 * Writes what KV holds for a contact id. With `keepDays`, the entry expires that long after its last
 * write: a contact gone that long (pruned in D1 when anonymous) leaves nothing behind in KV, and one that
 * comes back is read from D1 again.
 */
export async function writeSnapshot(kv: KVNamespace, siteId: string, value: StoredSnapshot, contactId = 'id' in value ? value.id : '', keepDays?: number): Promise<void> {
  await kv.put(snapshotKey(siteId, contactId), JSON.stringify(value), keepDays === undefined ? undefined : { expirationTtl: keepDays * 86_400 })
}

/** How long a site's snapshots stay in KV unwritten: as long as it keeps an anonymous contact unseen. */
export const snapshotKeepDays = (site: CompiledSite) => site.config.site.retention?.anonymousContactDays ?? DEFAULT_RETENTION_DAYS

/** Replaces what KV holds for these contact ids with the mark of an erased contact. */
export async function markErased(kv: KVNamespace, siteId: string, contactIds: readonly string[], now: number): Promise<void> {
  const mark = JSON.stringify({ erased: now })
  await Promise.all(contactIds.map((id) => kv.put(snapshotKey(siteId, id), mark, { expirationTtl: ERASED_MARK_TTL_S })))
}

/** The aggregates a snapshot carries, as kept beside a contact's row. */
type StoredAggregates = Pick<Snapshot, 'a' | 'x'>

/** A contact's snapshot from its stored state, with `aggregates` covering every matcher of the site. */
export function snapshotFromState(state: ContactState, aggregates: StoredAggregates, now: number): Snapshot {
  const f = Object.fromEntries(Object.entries(fieldValues(state.contact)).filter(([, v]) => v !== undefined)) as Record<string, Scalar>
  return {
    v: now,
    id: state.contact.id,
    f,
    m: Object.fromEntries([...state.memberships].sort(([x], [y]) => (x < y ? -1 : 1)).map(([id, { since }]) => [id, since])),
    a: aggregates.a,
    x: aggregates.x,
    k: state.counters,
  }
}

/** The stored aggregates, when they cover every matcher the site's conditions use now. */
export function storedAggregates(state: ContactState, site: CompiledSite): StoredAggregates | undefined {
  if (state.aggregates === null) return undefined
  const stored = JSON.parse(state.aggregates) as StoredAggregates
  const covered = new Set(stored.x)
  for (const key of site.matchers.keys()) if (!covered.has(key)) return undefined
  return stored
}

/**
 * The aggregates of a contact whose stored ones are missing or do not cover the site's matchers (a
 * segment counting a new kind of activity was added): the missing ones are worked out from the contact's
 * activities of those types, the others kept. Reads the contact's own history, never the site's.
 */
export async function aggregatesFromHistory(db: D1Database, site: CompiledSite, state: ContactState, now: number): Promise<StoredAggregates> {
  const stored = state.aggregates === null ? undefined : (JSON.parse(state.aggregates) as StoredAggregates)
  const covered = new Set(stored?.x ?? [])
  const missing = [...site.matchers.values()].filter((m) => !covered.has(m.key))
  const types = [...new Set(missing.map((m) => m.activity.type))]
  const activities = types.length > 0 ? await listActivities(db, site.config.site.id, state.contact.id, { types }) : []
  const fresh = aggregateHistory(site, activities, now)
  const a: StoredAggregates['a'] = {}
  for (const key of site.matchers.keys()) {
    const agg = covered.has(key) ? stored!.a[key] : fresh.a[key]
    if (agg) a[key] = agg
  }
  return { a, x: [...site.matchers.keys()] }
}

/**
 * Contacts' snapshots built from D1, following an alias to the contact an id was merged into; ids D1 has
 * no contact for are left out. One call a shard for their rows, memberships and counters, plus, for a
 * contact whose aggregates do not cover the site, one read of its own activities. With `keep`, aggregates
 * worked out that way are kept beside the contact for the next time.
 */
export async function loadSnapshots(data: SiteData, site: CompiledSite, ids: readonly string[], now: number, keep = false): Promise<Map<string, Snapshot>> {
  const siteId = site.config.site.id
  const statesOf = async (list: readonly string[]) => {
    const found = await Promise.all(data.group(list, (id) => id).map(([shard, group]) => contactStates(shard.db, siteId, group)))
    return new Map(found.flatMap((f) => [...f.states]))
  }
  let states = await statesOf(ids)
  const targets = new Map<string, string>()
  for (const id of ids) {
    if (states.has(id)) continue
    const target = await resolveAlias(data.of(id), siteId, id)
    if (target !== undefined) targets.set(id, target)
  }
  if (targets.size > 0) states = new Map([...states, ...(await statesOf([...new Set(targets.values())]))])
  const out = new Map<string, Snapshot>()
  const kept: Array<{ contactId: string; statement: D1PreparedStatement }> = []
  for (const id of ids) {
    const state = states.get(targets.get(id) ?? id)
    if (!state) continue
    let aggregates = storedAggregates(state, site)
    if (!aggregates) {
      const db = data.of(state.contact.id)
      aggregates = await aggregatesFromHistory(db, site, state, now)
      if (keep) kept.push({ contactId: state.contact.id, statement: keepAggregates(db, siteId, state.contact.id, JSON.stringify(aggregates), state.rev) })
    }
    out.set(id, snapshotFromState(state, aggregates, now))
  }
  // Each on its contact's shard (a statement runs on the database that prepared it).
  await Promise.all(data.group(kept, (k) => k.contactId).map(([shard, list]) => shard.db.batch(list.map((k) => k.statement))))
  return out
}

/**
 * A contact's snapshot built from D1, following an alias to the contact an id was merged into;
 * undefined when D1 has no such contact. Reads only: the request path calls it.
 */
export async function loadSnapshot(data: SiteData, site: CompiledSite, contactId: string, now: number): Promise<Snapshot | undefined> {
  return (await loadSnapshots(data, site, [contactId], now)).get(contactId)
}
