/**
 * Writing visits to D1: one transaction for a batch of one site's visits. D1 may have moved on since the
 * edge decided (a contact merged or erased, an identifier taken by another browser); each visit is settled
 * against it first. Every visit is recorded as written, so a message delivered again adds nothing twice,
 * and a visit written after a newer one of the same contact adds its events and counters but sets no
 * field or static membership back.
 */
import { type Scalar } from '../conditions/types'
import { type ContactChange, dropSettledClaims, ensureContact, markWritten, touchContact, updateContacts } from '../data/contacts'
import { addCounters, raiseCounters } from '../data/counters'
import { insertActivities } from '../data/events'
import { identityOf, ownerOf } from '../data/identities'
import { addStaticMember, removeMember } from '../data/members'
import { mergeContacts } from '../data/merge'
import { recordProcessed } from '../data/processed'
import { refreshStatements } from '../segments/membership'
import { type CompiledSite, type SiteConfig, reachedConfigSegments } from '../visits/compile'
import { type IdentifierKind } from '../visits/identity'
import { type VisitMessage } from './messages'

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

/**
 * The dynamic segments a visit can have moved the contact in or out of, in computing order: what its
 * fields, its activities and the static segments its workflows changed reach, with what time moved since
 * D1 last computed them (see `reach`). A merge moves everything.
 */
export function affectedSegments(site: CompiledSite, m: VisitMessage): SiteConfig['segments'] {
  return reachedConfigSegments(site, {
    everything: m.mergedFrom !== undefined,
    fields: Object.keys(m.fields),
    activities: m.activities.map((a) => a.type),
    segments: m.statics.map(([segment]) => segment),
    time: true,
  })
}

/**
 * Writes visits of one site in one transaction: contacts, merges, fields, identifiers and claims,
 * activities (duplicate ids ignored), workflow memberships and counters, then the dynamic memberships the
 * visits can have moved, recomputed in SQL once for all their contacts. `moved` maps ids merged into
 * another contact since the edge decided to that contact. Returns the contact each visit landed on.
 */
export async function writeVisits(
  db: D1Database,
  compiled: CompiledSite,
  messages: VisitMessage[],
  moved: Map<string, string | null>,
  alongside: D1PreparedStatement[] = [],
): Promise<Written[]> {
  const statements: D1PreparedStatement[] = []
  const written: Written[] = []
  const affected = new Set<string>()
  const taken: TakenInBatch = { owners: new Map(), identities: new Map() }
  const now = Date.now()
  for (const m of messages) {
    // Each message's own: a copy of it in the same transaction must not count as the one recorded.
    const attempt = crypto.randomUUID()
    const identity = await settleIdentity(db, m, moved, taken)
    const { contactId, mergedFrom } = identity
    const at = m.activities.reduce((max, a) => Math.max(max, a.at), 0)
    const change: ContactChange = { id: contactId, fields: {}, ...identity.change }
    for (const [key, value] of Object.entries(m.fields) as Array<[string, Scalar | null]>) {
      if (key !== 'email' && key !== 'externalId' && key !== 'lastSeenAt' && key !== 'createdAt') change.fields![key] = value
    }
    // A message queued before visits carried an id cannot be recognised again: it is written as before.
    if (m.id !== undefined) statements.push(recordProcessed(db, m.siteId, m.id, attempt, now))
    statements.push(ensureContact(db, m.siteId, contactId, m.createdAt ?? m.v))
    if (mergedFrom) statements.push(...mergeContacts(db, m.siteId, mergedFrom, contactId, m.v, 'identify'))
    statements.push(...updateContacts(db, m.siteId, [change], m.v))
    if (change.email || change.externalId) statements.push(dropSettledClaims(db, m.siteId, [contactId]))
    if (at > 0) statements.push(touchContact(db, m.siteId, contactId, at))
    if (m.activities.length > 0) statements.push(...insertActivities(db, m.siteId, m.activities.map((a) => ({ ...a, contactId }))))
    for (const [segment, op] of m.statics) {
      statements.push(op === 'add' ? addStaticMember(db, m.siteId, segment, contactId, 'workflow', m.v, m.v) : removeMember(db, m.siteId, segment, contactId, m.v))
    }
    statements.push(...(m.id !== undefined ? addCounters(db, m.siteId, contactId, m.counters, { id: m.id, attempt }) : raiseCounters(db, m.siteId, contactId, m.counters)))
    statements.push(markWritten(db, m.siteId, contactId, m.v))
    for (const s of affectedSegments(compiled, { ...m, mergedFrom })) affected.add(s.id)
    written.push({ contactId, redirects: mergedFrom ? [[mergedFrom, contactId]] : [] })
  }
  const segments = compiled.config.segments.filter((s) => affected.has(s.id))
  statements.push(...refreshStatements(db, compiled.config.site, segments, now, [...new Set(written.map((w) => w.contactId))]))
  await db.batch([...statements, ...alongside])
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
