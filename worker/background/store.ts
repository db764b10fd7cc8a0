/**
 * Where snapshots live: KV for the edge's reads, rebuilt from D1 (the source of truth) by the consumer.
 */
import { fieldValues, getContact } from '../data/contacts'
import { countersOf } from '../data/counters'
import { listActivities } from '../data/events'
import { membershipsOf } from '../data/members'
import { resolveAlias } from '../data/merge'
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

export async function writeSnapshot(kv: KVNamespace, siteId: string, value: StoredSnapshot, contactId = 'id' in value ? value.id : ''): Promise<void> {
  await kv.put(snapshotKey(siteId, contactId), JSON.stringify(value))
}

/** Replaces what KV holds for these contact ids with the mark of an erased contact. */
export async function markErased(kv: KVNamespace, siteId: string, contactIds: readonly string[], now: number): Promise<void> {
  const mark = JSON.stringify({ erased: now })
  await Promise.all(contactIds.map((id) => kv.put(snapshotKey(siteId, id), mark, { expirationTtl: ERASED_MARK_TTL_S })))
}

/**
 * A contact's snapshot built from D1, following an alias to the contact an id was merged into;
 * undefined when D1 has no such contact.
 */
export async function loadSnapshot(db: D1Database, site: CompiledSite, contactId: string, now: number): Promise<Snapshot | undefined> {
  let contact = await getContact(db, site.config.site.id, contactId)
  if (!contact) {
    const target = await resolveAlias(db, site.config.site.id, contactId)
    contact = target === undefined ? undefined : await getContact(db, site.config.site.id, target)
    if (!contact) return undefined
  }
  const siteId = site.config.site.id
  const types = [...new Set([...site.matchers.values()].map((m) => m.activity.type))]
  const [memberships, counters, activities] = await Promise.all([
    membershipsOf(db, siteId, contact.id),
    countersOf(db, siteId, contact.id),
    types.length > 0 ? listActivities(db, siteId, contact.id, { types }) : Promise.resolve([]),
  ])
  const f = Object.fromEntries(Object.entries(fieldValues(contact)).filter(([, v]) => v !== undefined)) as Record<string, Scalar>
  return {
    v: now,
    id: contact.id,
    f,
    m: Object.fromEntries(memberships.map((m) => [m.segmentId, m.since])),
    ...aggregateHistory(site, activities, now),
    k: counters,
  }
}
