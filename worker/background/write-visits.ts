/**
 * Writing visits to D1: one transaction for a batch of one site's visits on each of its shards (a contact
 * and everything about it live on one; worker/data/shards.ts). D1 may have moved on since the
 * edge decided (a contact merged or erased, an identifier taken by another browser); each visit is settled
 * against it first. Every visit is recorded as written, so a message delivered again adds nothing twice,
 * and a visit written after a newer one of the same contact adds its events and counters but sets no
 * field or static membership back.
 */
import { evaluate } from '../conditions/evaluate'
import { type Scalar } from '../conditions/types'
import { contactStates, forgetAggregates, moveRuleMembers, saveAggregates } from '../data/contact-state'
import { type ContactChange, dropSettledClaims, ensureContact, markWritten, touchContact, updateContacts } from '../data/contacts'
import { addCounters, raiseCounters } from '../data/counters'
import { insertActivities } from '../data/events'
import { identityOf, ownerOf } from '../data/identities'
import { addStaticMember, removeMember } from '../data/members'
import { adoptDeparting, mergeContacts, readDeparting, releaseDeparting, repointAliases, resolveAlias } from '../data/merge'
import { notePasses } from '../data/flow'
import { recordProcessed } from '../data/processed'
import { type SiteData } from '../data/shards'
import { fenceWrites } from '../data/sites'
import { registerOf } from '../reports/distinct'
import { refreshStatements } from '../segments/membership'
import { type CompiledSite, type InputChange, type SiteConfig, reach, reachedConfigSegments } from '../visits/compile'
import { type IdentifierKind } from '../visits/identity'
import { type Snapshot, emptySnapshot, foldActivity, snapshotFacts } from '../visits/snapshot'
import { type VisitMessage } from './messages'
import { aggregatesFromHistory, snapshotFromState, storedAggregates } from './store'

const DAY_MS = 86_400_000

/** Identifiers earlier visits of the same transaction gave to contacts: D1 shows them only once it commits. */
interface TakenInBatch {
  owners: Map<string, string>
  identities: Map<string, Partial<Record<IdentifierKind, string>>>
}

export interface Written {
  contactId: string
  /** Ids merged into the contact by this visit, [alias, contact]: KV points them at it. */
  redirects: Array<[alias: string, target: string]>
}

/** What a visit can have changed that conditions read: its fields, its activities, its static segments, and time. */
function visitChange(m: VisitMessage): InputChange {
  return {
    everything: m.mergedFrom !== undefined,
    fields: Object.keys(m.fields),
    activities: m.activities.map((a) => a.type),
    segments: m.statics.map(([segment]) => segment),
    time: true,
  }
}

/**
 * The dynamic segments a visit can have moved the contact in or out of, in computing order: what its
 * fields, its activities and the static segments its workflows changed reach, with what time moved since
 * D1 last computed them (see `reach`). A merge moves everything.
 */
export function affectedSegments(site: CompiledSite, m: VisitMessage): SiteConfig['segments'] {
  return reachedConfigSegments(site, visitChange(m))
}

/** A visit settled against D1: the contact it lands on, a contact it merges, and what it changes. */
interface Settled {
  m: VisitMessage
  /** Each message's own: a copy of it in the same transaction must not count as the one recorded. */
  attempt: string
  contactId: string
  mergedFrom?: string
  change: ContactChange
}

/**
 * Writes visits of one site, in one transaction on each shard they touch: contacts, merges, fields,
 * identifiers and claims, activities (duplicate ids ignored), workflow memberships and counters, and the
 * dynamic memberships the visits moved. A contact's state is read once for the batch (its row with its
 * activity aggregates, its memberships and counters); each visit's new activities are folded into those
 * aggregates and the segments it can reach re-evaluated with the edge's own engine — never by re-reading
 * the contact's history. A visit that merges two contacts has its memberships recomputed in SQL and its
 * aggregates worked out again when next needed; when the merged contact lives on another shard, its rows
 * are copied into the transaction of the shard it joins, and let go of on its own shard once that is
 * written (see `adoptDeparting`). `moved` maps ids merged into another contact since the edge decided to
 * that contact. `after` are control-database statements written once the visits are. Returns the contact
 * each visit landed on.
 */
export async function writeVisits(
  data: SiteData,
  compiled: CompiledSite,
  messages: VisitMessage[],
  moved: Map<string, string | null>,
  after: D1PreparedStatement[] = [],
): Promise<Written[]> {
  const siteId = compiled.config.site.id
  const taken: TakenInBatch = { owners: new Map(), identities: new Map() }
  const now = Date.now()
  const settled: Settled[] = []
  for (const m of messages) {
    const identity = await settleIdentity(data, m, moved, taken)
    const change: ContactChange = { id: identity.contactId, fields: {}, ...identity.change }
    for (const [key, value] of Object.entries(m.fields) as Array<[string, Scalar | null]>) {
      if (key !== 'email' && key !== 'externalId' && key !== 'lastSeenAt' && key !== 'createdAt') change.fields![key] = value
    }
    settled.push({ m, attempt: crypto.randomUUID(), contactId: identity.contactId, mergedFrom: identity.mergedFrom, change })
  }
  const statics = compiled.config.segments.filter((s) => s.type === 'static').map((s) => s.id)
  // A visit that merges a contact on another shard is written after the others, once the contact it merges
  // holds all that they wrote of it, and then on its own: the merged contact is read where it is and copied
  // in with the visit, then let go of on its own shard.
  const across = (s: Settled) => s.mergedFrom !== undefined && data.shardOf(s.mergedFrom) !== data.shardOf(s.contactId)
  for (const [shard, group] of data.group(settled.filter((s) => !across(s)), (s) => s.contactId)) {
    const db = shard.db
    const contacts = new ContactsInBatch(db, compiled, now)
    await contacts.read(group)
    const statements: D1PreparedStatement[] = [fenceWrites(db, siteId)]
    for (const s of group) {
      const merge = s.mergedFrom === undefined ? [] : mergeContacts(db, siteId, s.mergedFrom, s.contactId, s.m.v, 'identify', statics)
      statements.push(...visitStatements(db, compiled, s, merge, now))
      contacts.apply(s)
    }
    statements.push(...contacts.statements())
    await db.batch(statements)
  }
  for (const s of settled.filter(across)) {
    const [home, there] = [data.shardOf(s.mergedFrom!), data.shardOf(s.contactId)]
    // Whether this shard has the merge already: an earlier attempt wrote it, but could not let go of it.
    const [departing, target] = await Promise.all([readDeparting(home.db, siteId, s.mergedFrom!), resolveAlias(there.db, siteId, s.mergedFrom!)])
    const contacts = new ContactsInBatch(there.db, compiled, now)
    await contacts.read([s])
    const merge = adoptDeparting(there.db, siteId, departing, s.contactId, s.m.v, 'identify', statics, target === s.contactId)
    const statements = [fenceWrites(there.db, siteId), ...visitStatements(there.db, compiled, s, merge, now)]
    contacts.apply(s)
    await there.db.batch([...statements, ...contacts.statements()])
    await home.db.batch([fenceWrites(home.db, siteId), ...releaseDeparting(home.db, siteId, departing, s.contactId, s.m.v, 'identify')])
    const others = data.shards.filter((shard) => shard !== home && shard !== there)
    await Promise.all(others.map((shard) => repointAliases(shard.db, siteId, departing.id, s.contactId).run()))
  }
  if (after.length > 0) await data.control.batch(after)
  return settled.map((s) => ({ contactId: s.contactId, redirects: s.mergedFrom ? [[s.mergedFrom, s.contactId]] : [] }))
}

/**
 * Finishes merges across shards that an earlier delivery wrote on the survivor's shard but could not let
 * go of on the merged contact's own (its message is recorded as written, so it is not written again):
 * for each id still a contact on its own shard while another shard of the site holds it as an alias, what
 * arrived since is copied over and the id let go of. Returns the ids finished, with the contact each joined.
 */
export async function finishDepartures(data: SiteData, compiled: CompiledSite, ids: readonly string[], v: number): Promise<Map<string, string>> {
  const siteId = compiled.config.site.id
  const statics = compiled.config.segments.filter((s) => s.type === 'static').map((s) => s.id)
  const finished = new Map<string, string>()
  for (const id of new Set(ids)) {
    const home = data.shardOf(id)
    const others = data.shards.filter((shard) => shard !== home)
    // Where it was merged to, if anywhere: one index read on each other shard, before its rows are read.
    const targets = await Promise.all(others.map((shard) => resolveAlias(shard.db, siteId, id)))
    const at = targets.findIndex((t) => t !== undefined)
    if (at < 0) continue
    const [there, into] = [others[at], targets[at]!]
    const departing = await readDeparting(home.db, siteId, id)
    await there.db.batch([fenceWrites(there.db, siteId), ...adoptDeparting(there.db, siteId, departing, into, v, 'identify', statics, true)])
    await home.db.batch([fenceWrites(home.db, siteId), ...releaseDeparting(home.db, siteId, departing, into, v, 'identify')])
    await Promise.all(others.filter((shard) => shard !== there).map((shard) => repointAliases(shard.db, siteId, id, into).run()))
    finished.set(id, into)
  }
  return finished
}

/** What one visit writes, in order: its record, its contact, a merge, fields, activities, statics, counters, passes. */
function visitStatements(db: D1Database, compiled: CompiledSite, s: Settled, merge: D1PreparedStatement[], now: number): D1PreparedStatement[] {
  const { m, contactId, change } = s
  const out: D1PreparedStatement[] = []
  const at = m.activities.reduce((max, a) => Math.max(max, a.at), 0)
  // A message queued before visits carried an id cannot be recognised again: it is written as before.
  if (m.id !== undefined) out.push(recordProcessed(db, m.siteId, m.id, s.attempt, now))
  out.push(ensureContact(db, m.siteId, contactId, m.createdAt ?? m.v))
  out.push(...merge)
  out.push(...updateContacts(db, m.siteId, [change], m.v))
  if (change.email || change.externalId) out.push(dropSettledClaims(db, m.siteId, [contactId]))
  if (at > 0) out.push(touchContact(db, m.siteId, contactId, at))
  if (m.activities.length > 0) out.push(...insertActivities(db, m.siteId, m.activities.map((a) => ({ ...a, contactId }))))
  for (const [segment, op] of m.statics) {
    // A segment deleted since the edge decided is left alone (the compiled config is D1's, read for this batch).
    if (compiled.segmentTypes.get(segment) !== 'static') continue
    out.push(op === 'add' ? addStaticMember(db, m.siteId, segment, contactId, 'workflow', m.v, m.v) : removeMember(db, m.siteId, segment, contactId, m.v))
  }
  out.push(...(m.id !== undefined ? addCounters(db, m.siteId, contactId, m.counters, { id: m.id, attempt: s.attempt }) : raiseCounters(db, m.siteId, contactId, m.counters)))
  // Setting a register only ever raises it: a message written twice counts once without a check.
  if (m.passes?.length) out.push(notePasses(db, m.siteId, Math.floor(m.v / DAY_MS), registerOf(contactId), m.passes))
  out.push(markWritten(db, m.siteId, contactId, m.v))
  return out
}

/** A contact as the batch leaves it: its snapshot so far, and what was read of it. */
interface Working {
  snap: Snapshot
  /** The revision of its aggregates read (0 for a contact not in D1 yet). */
  rev: number
  /** The newest visit written to it, read and then as this batch goes. */
  writtenV: number
  /** Its dynamic memberships as read. */
  dynamicBefore: Set<string>
}

/**
 * The contacts of a batch of visits, read once and then changed in memory visit by visit as D1 will be:
 * their aggregates, fields and memberships, with the dynamic segments re-evaluated by the edge's engine.
 */
class ContactsInBatch {
  private readonly working = new Map<string, Working>()
  /** Activities already stored (or earlier in this batch), as contact + id: folding them again would count them twice. */
  private stored = new Set<string>()
  /** Contacts a visit merged into: recomputed in SQL, aggregates worked out again later. */
  private readonly merged = new Set<string>()

  constructor(
    private readonly db: D1Database,
    private readonly site: CompiledSite,
    private readonly now: number,
  ) {}

  async read(settled: readonly Settled[]): Promise<void> {
    const siteId = this.site.config.site.id
    for (const s of settled) if (s.mergedFrom) this.merged.add(s.contactId)
    const ids = [...new Set(settled.map((s) => s.contactId))].filter((id) => !this.merged.has(id))
    if (ids.length === 0) return
    const pairs = settled.filter((s) => !this.merged.has(s.contactId)).flatMap((s) => s.m.activities.map((a): [string, string] => [s.contactId, a.id]))
    const { states, stored } = await contactStates(this.db, siteId, ids, pairs)
    this.stored = stored
    for (const id of ids) {
      const state = states.get(id)
      if (!state) {
        const born = settled.find((s) => s.contactId === id)!.m
        const snap = emptySnapshot(this.site, id, this.now)
        snap.f.createdAt = born.createdAt ?? born.v
        this.working.set(id, { snap, rev: 0, writtenV: 0, dynamicBefore: new Set() })
        continue
      }
      const aggregates = storedAggregates(state, this.site) ?? (await aggregatesFromHistory(this.db, this.site, state, this.now))
      const dynamicBefore = new Set([...state.memberships.keys()].filter((segment) => this.site.segmentTypes.get(segment) === 'dynamic'))
      this.working.set(id, { snap: snapshotFromState(state, aggregates, this.now), rev: state.rev, writtenV: state.writtenV, dynamicBefore })
    }
  }

  /** Applies a visit to its contact in memory, as its statements will to D1. */
  apply(s: Settled): void {
    const w = this.working.get(s.contactId)
    if (!w) return
    const { m, change } = s
    const snap = w.snap
    // A visit written after a newer one of its contact adds activities, but sets no field or static back.
    const current = m.v >= w.writtenV
    w.writtenV = Math.max(w.writtenV, m.v)
    if (current) {
      if (change.email) snap.f.email = change.email
      if (change.externalId) snap.f.externalId = change.externalId
      for (const [key, value] of Object.entries(change.fields ?? {})) {
        if (value === null) delete snap.f[key]
        else snap.f[key] = value as Scalar
      }
    }
    for (const a of m.activities) {
      if (a.at > Number(snap.f.lastSeenAt ?? -Infinity)) snap.f.lastSeenAt = a.at
      const key = `${s.contactId}\u0000${a.id}`
      if (this.stored.has(key)) continue
      this.stored.add(key)
      foldActivity(this.site, snap, a, this.now)
    }
    if (current) {
      for (const [segment, op] of m.statics) {
        if (this.site.segmentTypes.get(segment) !== 'static') continue
        if (op === 'add') snap.m[segment] ??= m.v
        else delete snap.m[segment]
      }
    }
    const facts = snapshotFacts(snap, this.site)
    for (const segment of reach(this.site, visitChange(m))) {
      const member = evaluate(segment.node, facts, this.now)
      if (member === Object.hasOwn(snap.m, segment.id)) continue
      if (member) snap.m[segment.id] = this.now
      else delete snap.m[segment.id]
    }
  }

  /** The batch's last statements: each contact's dynamic memberships and aggregates, as the visits left them. */
  statements(): D1PreparedStatement[] {
    const siteId = this.site.config.site.id
    const out: D1PreparedStatement[] = []
    for (const [id, w] of this.working) {
      const after = new Set(Object.keys(w.snap.m).filter((segment) => this.site.segmentTypes.get(segment) === 'dynamic'))
      const entered = [...after].filter((segment) => !w.dynamicBefore.has(segment))
      const left = [...w.dynamicBefore].filter((segment) => !after.has(segment))
      out.push(...moveRuleMembers(this.db, siteId, id, entered, left, this.now))
      out.push(saveAggregates(this.db, siteId, id, JSON.stringify({ a: w.snap.a, x: w.snap.x }), w.rev))
    }
    if (this.merged.size > 0) {
      const ids = [...this.merged]
      out.push(forgetAggregates(this.db, siteId, ids))
      out.push(...refreshStatements(this.db, this.site.config.site, this.site.config.segments, this.now, ids))
    }
    return out
  }
}

/**
 * Where a visit lands in D1, which may have moved on since the edge decided: its contact may have been
 * merged into another, and another browser may have taken a verified identifier first. An anonymous
 * contact whose identifier another contact now holds is merged into that one, as the edge would have
 * done. An identifier the contact cannot take — another contact holds it, or the contact already holds
 * another of its kind — is kept as a claim: D1 never merges two known contacts, and never replaces an
 * identifier a contact has.
 */
async function settleIdentity(data: SiteData, m: VisitMessage, moved: Map<string, string | null>, taken: TakenInBatch) {
  let contactId = moved.get(m.contactId) ?? m.contactId
  let mergedFrom = m.mergedFrom !== undefined && m.mergedFrom !== contactId && !moved.has(m.mergedFrom) ? m.mergedFrom : undefined
  const claims: Partial<Record<IdentifierKind, string>> = { ...m.claims }
  const given = (['externalId', 'email'] as const).flatMap((kind) => (typeof m.fields[kind] === 'string' ? [{ kind, value: m.fields[kind] as string }] : []))
  const owners = new Map<IdentifierKind, string | undefined>()
  for (const id of given) owners.set(id.kind, taken.owners.get(`${id.kind}:${id.value}`) ?? (await ownerOf(data, m.siteId, id)))
  // A contact's identifiers as D1 has them, with those an earlier visit of this batch gave it.
  const identityNow = async (id: string) => {
    const stored = await identityOf(data.of(id), m.siteId, id)
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
 * A visit without what it says about identity: verified identifiers become claims and a merge is not
 * made. What is left of a visit whose identity D1 refused (a constraint no retry will satisfy) is written
 * this way, and what was dropped recorded.
 */
export function withoutIdentity(m: VisitMessage): { message: VisitMessage; dropped: string[] } {
  const fields = { ...m.fields }
  const claims = { ...m.claims }
  const dropped: string[] = []
  for (const kind of ['email', 'externalId'] as const) {
    const value = fields[kind]
    delete fields[kind]
    if (typeof value === 'string') {
      claims[kind] = value
      dropped.push(`${kind} ${value} kept as an unverified claim`)
    }
  }
  if (m.mergedFrom) dropped.push(`contact ${m.mergedFrom} not merged into it`)
  return { message: { ...m, fields, claims: Object.keys(claims).length > 0 ? claims : undefined, mergedFrom: undefined }, dropped }
}
