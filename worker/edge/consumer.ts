/**
 * The queue consumer: the single writer of what visits did. Each visit message is written to D1 in one
 * transaction (events with duplicate ids ignored, fields, workflow memberships, counters, merges, and
 * the contact's dynamic memberships recomputed in SQL); a message that fails is retried, so nothing is
 * lost and nothing is written twice. Then the snapshots of the contacts touched are rebuilt from D1 and
 * written to KV.
 */
import { type Scalar } from '../conditions/types'
import { type ContactChange, dropSettledClaims, touchContact, updateContacts } from '../data/contacts'
import { saveCounters } from '../data/counters'
import { insertActivities } from '../data/events'
import { addStaticMember, removeMember } from '../data/members'
import { movedOrErased } from '../data/erasure'
import { identityOf, ownerOf } from '../data/identities'
import { mergeContacts } from '../data/merge'
import { refreshStatements } from '../segments/membership'
import { type CompiledSite, type SiteConfig, compileSite } from './compile'
import { buildSiteConfig } from './config'
import { type QueueMessage, type VisitMessage } from './messages'
import { type IdentifierKind } from './identity'
import { loadSnapshot, markErased, readSnapshot, writeSnapshot } from './store'

export async function consume(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  // One compiled config per site for the whole batch: D1's, not KV's, since D1 is what is written.
  const sites = new Map<string, CompiledSite | null>()
  const siteOf = async (siteId: string): Promise<CompiledSite | null> => {
    if (!sites.has(siteId)) {
      const config = await buildSiteConfig(env.DB, siteId)
      sites.set(siteId, config ? compileSite(config) : null)
    }
    return sites.get(siteId)!
  }
  const touched = new Map<string, Map<string, number>>()
  const redirects: Array<[siteId: string, alias: string, target: string]> = []
  const touch = (siteId: string, contactId: string, v: number) => {
    const site = touched.get(siteId) ?? new Map<string, number>()
    site.set(contactId, Math.max(site.get(contactId) ?? 0, v))
    touched.set(siteId, site)
  }
  const retry = (message: Message<QueueMessage>, err: unknown) => {
    console.error('queue: writing a message failed; it will be retried', err)
    message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) })
  }

  const visits = new Map<string, Array<Message<VisitMessage>>>()
  for (const message of batch.messages) {
    const body = message.body
    try {
      const site = await siteOf(body.siteId)
      if (site && body.kind === 'visit') {
        visits.set(body.siteId, [...(visits.get(body.siteId) ?? []), message as Message<VisitMessage>])
        continue
      }
      if (site && body.kind === 'refresh') for (const id of body.contactIds) touch(body.siteId, id, 0)
      if (body.kind === 'erase') await markErased(env.KV, body.siteId, body.contactIds, body.at)
      message.ack()
    } catch (err) {
      retry(message, err)
    }
  }

  for (const [siteId, all] of visits) {
    const site = (await siteOf(siteId))!
    const done = (message: Message<VisitMessage>, written: Written) => {
      touch(siteId, written.contactId, message.body.v)
      if (written.mergedFrom) redirects.push([siteId, written.mergedFrom, written.contactId])
      message.ack()
    }
    let moved: Map<string, string | null>
    try {
      moved = await movedOrErased(env.DB, siteId, all.flatMap((m) => [m.body.contactId, ...(m.body.mergedFrom ? [m.body.mergedFrom] : [])]))
    } catch (err) {
      for (const m of all) retry(m, err)
      continue
    }
    // A visit to a contact erased since the edge decided goes with it: nothing brings an erased contact back.
    const erased = (id: string | undefined) => id !== undefined && moved.get(id) === null
    const messages: Array<Message<VisitMessage>> = []
    const gone = new Set<string>()
    for (const m of all) {
      if (!erased(m.body.contactId) && !erased(m.body.mergedFrom)) messages.push(m)
      else {
        for (const id of [m.body.contactId, m.body.mergedFrom]) if (erased(id)) gone.add(id!)
        m.ack()
      }
    }
    // An edge that still decided for an erased contact saw its snapshot: mark it erased in KV once more.
    if (gone.size > 0) await markErased(env.KV, siteId, [...gone], Date.now())
    if (messages.length === 0) continue
    // Each attempt settles identities on its own copy of `moved`: only a written merge moves an id.
    try {
      const written = await writeVisits(env.DB, site, messages.map((m) => m.body), new Map(moved))
      messages.forEach((m, i) => done(m, written[i]))
    } catch {
      // One transaction for them all failed: write them one by one, so one bad message holds back no other.
      for (const m of messages) {
        const attempt = new Map(moved)
        try {
          done(m, (await writeVisits(env.DB, site, [m.body], attempt))[0])
          moved = attempt
        } catch (err) {
          retry(m, err)
        }
      }
    }
  }
  for (const [siteId, alias, target] of redirects) await writeSnapshot(env.KV, siteId, { redirect: target }, alias)
  for (const [siteId, contacts] of touched) {
    const site = await siteOf(siteId)
    if (site) await rebuildSnapshots(env, site, contacts)
  }
}

/** Identifiers earlier visits of the same transaction gave to contacts: D1 shows them only once it commits. */
interface TakenInBatch {
  owners: Map<string, string>
  identities: Map<string, Partial<Record<IdentifierKind, string>>>
}

interface Written {
  contactId: string
  mergedFrom?: string
}

/**
 * The dynamic segments a visit can have moved the contact in or out of, in computing order: those that
 * read a field it changed or an activity of a type it brought, those that depend on time, those that read
 * a static segment a workflow changed, and every segment that reads one of these. (A merge moves
 * everything, so it recomputes them all.)
 */
export function affectedSegments(site: CompiledSite, m: VisitMessage): SiteConfig['segments'] {
  const all = site.config.segments.filter((s) => s.type === 'dynamic')
  if (m.mergedFrom) return all
  const fields = new Set([...Object.keys(m.fields), ...(m.activities.length > 0 ? ['lastSeenAt'] : [])])
  const types = new Set(m.activities.map((a) => a.type))
  const moved = new Set(m.statics.map(([segment]) => segment))
  for (const s of site.dynamic) {
    const matcherTypes = [...s.matchers].map((k) => site.matchers.get(k)?.activity.type)
    const hit = s.timeDependent || [...s.fields].some((f) => fields.has(f)) || matcherTypes.some((t) => t !== undefined && types.has(t)) || [...s.segments].some((id) => moved.has(id))
    if (hit) moved.add(s.id)
  }
  return all.filter((s) => moved.has(s.id))
}

/**
 * Writes visits of one site in one transaction: contacts, merges, fields, identifiers and claims,
 * activities (duplicate ids ignored), workflow memberships and counters, then the dynamic memberships the
 * visits can have moved, recomputed in SQL once for all their contacts. `moved` maps ids merged into
 * another contact since the edge decided to that contact. Returns the contact each visit landed on.
 */
async function writeVisits(db: D1Database, compiled: CompiledSite, messages: VisitMessage[], moved: Map<string, string | null>): Promise<Written[]> {
  const statements: D1PreparedStatement[] = []
  const written: Written[] = []
  const affected = new Set<string>()
  const taken: TakenInBatch = { owners: new Map(), identities: new Map() }
  for (const m of messages) {
    const identity = await settleIdentity(db, m, moved, taken)
    const { contactId, mergedFrom } = identity
    const at = m.activities.reduce((max, a) => Math.max(max, a.at), 0)
    const change: ContactChange = { id: contactId, fields: {}, ...identity.change }
    for (const [key, value] of Object.entries(m.fields) as Array<[string, Scalar | null]>) {
      if (key !== 'email' && key !== 'externalId' && key !== 'lastSeenAt' && key !== 'createdAt') change.fields![key] = value
    }
    statements.push(
      db
        .prepare(`INSERT INTO contacts (site_id, id, custom, created_at) VALUES (?1, ?2, '{}', ?3) ON CONFLICT DO NOTHING`)
        .bind(m.siteId, contactId, m.createdAt ?? m.v),
    )
    if (mergedFrom) statements.push(...mergeContacts(db, m.siteId, mergedFrom, contactId, m.v, 'identify'))
    statements.push(...updateContacts(db, m.siteId, [change]))
    if (change.email || change.externalId) statements.push(dropSettledClaims(db, m.siteId, [contactId]))
    if (at > 0) statements.push(touchContact(db, m.siteId, contactId, at))
    if (m.activities.length > 0) statements.push(...insertActivities(db, m.siteId, m.activities.map((a) => ({ ...a, contactId }))))
    for (const [segment, op] of m.statics) {
      statements.push(op === 'add' ? addStaticMember(db, m.siteId, segment, contactId, 'workflow', m.v) : removeMember(db, m.siteId, segment, contactId))
    }
    statements.push(...saveCounters(db, m.siteId, contactId, m.counters))
    for (const s of affectedSegments(compiled, { ...m, mergedFrom })) affected.add(s.id)
    written.push({ contactId, mergedFrom })
  }
  const segments = compiled.config.segments.filter((s) => affected.has(s.id))
  statements.push(...refreshStatements(db, compiled.config.site, segments, Date.now(), [...new Set(written.map((w) => w.contactId))]))
  await db.batch(statements)
  return written
}

/**
 * Where a visit lands in D1, which may have moved on since the edge decided: its contact may have been
 * merged into another, and another browser may have taken a verified identifier first. An anonymous
 * contact whose identifier another contact now holds is merged into that one, as the edge would have
 * done. An identifier the contact cannot take — another contact holds it, or the contact already holds
 * another of its kind — is kept as a claim: D1 never merges two known contacts, and never replaces an
 * identifier a contact has.
 */
async function settleIdentity(db: D1Database, m: VisitMessage, moved: Map<string, string | null>, taken: TakenInBatch) {
  let contactId = moved.get(m.contactId) ?? m.contactId
  let mergedFrom = m.mergedFrom !== undefined && m.mergedFrom !== contactId && !moved.has(m.mergedFrom) ? m.mergedFrom : undefined
  const claims: Partial<Record<IdentifierKind, string>> = { ...m.claims }
  const given = (['externalId', 'email'] as const).flatMap((kind) => (typeof m.fields[kind] === 'string' ? [{ kind, value: m.fields[kind] as string }] : []))
  const owners = new Map<IdentifierKind, string | undefined>()
  for (const id of given) owners.set(id.kind, taken.owners.get(`${id.kind}:${id.value}`) ?? (await ownerOf(db, m.siteId, id)))
  // A contact's identifiers as D1 has them, with those an earlier visit of this batch gave it.
  const identityNow = async (id: string) => {
    const stored = await identityOf(db, m.siteId, id)
    const pending = taken.identities.get(id)
    return pending ? { email: null, externalId: null, ...stored, ...pending } : stored
  }
  const known = (identity: Partial<Record<IdentifierKind, string | null>> | undefined) => identity !== undefined && (identity.email != null || identity.externalId != null)

  let identity = given.length > 0 || mergedFrom !== undefined ? await identityNow(contactId) : undefined
  const elsewhere = given.find((id) => owners.get(id.kind) !== undefined && owners.get(id.kind) !== contactId)
  if (elsewhere && mergedFrom === undefined && !known(identity)) {
    mergedFrom = contactId
    contactId = owners.get(elsewhere.kind)!
    identity = await identityNow(contactId)
  }
  const change: Omit<ContactChange, 'id'> = {}
  for (const id of given) {
    const owner = owners.get(id.kind)
    const held = identity?.[id.kind] ?? null
    if (owner === contactId || held === id.value) continue
    if (owner === undefined && held === null) {
      change[id.kind] = id.value
      taken.owners.set(`${id.kind}:${id.value}`, contactId)
      taken.identities.set(contactId, { ...taken.identities.get(contactId), [id.kind]: id.value })
    } else {
      console.warn(`queue: contact ${contactId} of site ${m.siteId} cannot take a ${id.kind} another contact holds, or that differs from its own; kept as a claim`)
      claims[id.kind] = id.value
    }
  }
  if (mergedFrom !== undefined && known(await identityNow(mergedFrom))) {
    console.warn(`queue: contact ${mergedFrom} of site ${m.siteId} became someone before its merge was written; not merged`)
    mergedFrom = undefined
  }
  if (claims.email !== undefined) change.claimedEmail = claims.email
  if (claims.externalId !== undefined) change.claimedExternalId = claims.externalId
  // Later visits of the same batch to the merged id land on the contact it joined.
  if (mergedFrom !== undefined) moved.set(mergedFrom, contactId)
  return { contactId, mergedFrom, change }
}

/**
 * Rewrites the KV snapshots of these contacts from D1. A snapshot's version is the newest of the
 * visits written for it and the one already in KV, so a token from a later visit still wins.
 */
export async function rebuildSnapshots(env: Env, site: CompiledSite, contacts: Map<string, number>): Promise<void> {
  const siteId = site.config.site.id
  const now = Date.now()
  for (const [contactId, v] of contacts) {
    const snap = await loadSnapshot(env.DB, site, contactId, now)
    // Gone from D1: erased (the erasure marked it in KV) or not written yet. Leave KV as it is.
    if (!snap) continue
    if (snap.id !== contactId) {
      await writeSnapshot(env.KV, siteId, { redirect: snap.id }, contactId)
      continue
    }
    const stored = await readSnapshot(env.KV, siteId, contactId)
    const previous = stored && 'v' in stored ? stored.v : 0
    snap.v = v === 0 ? Math.max(now, previous + 1) : Math.max(v, previous)
    try {
      await writeSnapshot(env.KV, siteId, snap)
    } catch (err) {
      // KV takes about one write a second per key; the state token carries the contact until the next one.
      console.warn('queue: a snapshot write was refused', err)
    }
  }
}
