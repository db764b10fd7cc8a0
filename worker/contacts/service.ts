/**
 * The work behind contacts, shared with the console: creating and updating them (one, or up to 1,000 in one
 * transaction), importing past activities, merging, erasing, exporting, and a contact as the API shows it.
 */
import { type FieldValue } from '../../shared/events'
import { FieldCatalog } from '../conditions/fields'
import {
  type Contact, type ContactChange, dropSettledClaims, findContacts, getContact, insertContacts, touchContact, updateContacts,
} from '../data/contacts'
import { forgetAggregates } from '../data/contact-state'
import { countersOf } from '../data/counters'
import { aliasIdsOf, eraseAliases, eraseContact as eraseStatements, movedOrErased } from '../data/erasure'
import { type StoredActivity, activityPage, insertActivities } from '../data/events'
import { keptIdentifiersOf, keptOwners } from '../data/identities'
import { joinSegment } from '../data/imports'
import { adoptDeparting, aliasesOf, mergeContacts, readDeparting, releaseDeparting, repointAliases, resolveAlias } from '../data/merge'
import { membershipsOf } from '../data/members'
import { dropDeadLettersOf } from '../data/dead-letters'
import { allSegments } from '../data/segments'
import { type SiteData, siteData } from '../data/shards'
import { type Site, fenceWrites } from '../data/sites'
import { toActivity } from '../events/schema'
import { type Issue, type RefusalKind, notFound, refuse } from '../http/errors'
import { describeIssues, issuesOf } from '../http/validate'
import { type Changes } from '../background/changes'
import { markErasedAtTheEdge } from '../background/refresh'
import { writeSnapshot } from '../background/store'
import { newId } from '../lib/ids'
import { writeAndRefresh } from '../segments/membership'
import { MAX_BATCH, checkFields, contactInput, eventSchema } from './schema'

/**
 * A contact as the admin API shows it. `email` and `externalId` are verified (set by an admin or an
 * import, or signed by the site's server); `claimedEmail` and `claimedExternalId` are what a browser said
 * without a signature.
 */
export function contactJson(c: Contact) {
  return {
    id: c.id,
    email: c.email,
    externalId: c.externalId,
    claimedEmail: c.claimedEmail,
    claimedExternalId: c.claimedExternalId,
    fields: c.fields,
    createdAt: new Date(c.createdAt).toISOString(),
    lastSeenAt: c.lastSeenAt === null ? null : new Date(c.lastSeenAt).toISOString(),
  }
}

/** Why one row of a request was refused: the kind, the code, the words and the field paths at fault. */
export interface RowError {
  index: number
  kind: RefusalKind
  code: string
  message: string
  field?: string
  issues?: Issue[]
}

interface PlannedRow {
  index: number
  id: string
  created: boolean
  change: ContactChange
}

type Mode = 'upsert' | 'create' | 'update'

/** How a refusal names another row of the same request (an import names rows by their line in its file). */
type RowName = (index: number) => string

/**
 * Works out, for each row, which contact it creates or changes: by id, else external id, else email.
 * Nothing is written; every problem found is returned with its row.
 */
async function plan(data: SiteData, site: Site, rows: unknown[], mode: Mode, rowName: RowName = (i) => `Row ${i}`): Promise<{ planned: PlannedRow[]; errors: RowError[] }> {
  const catalog = new FieldCatalog(site.fields)
  const errors: RowError[] = []
  const valid: Array<{ index: number; row: ReturnType<typeof contactInput.parse>; fields: Record<string, FieldValue | null> }> = []
  rows.forEach((raw, index) => {
    const r = contactInput.safeParse(raw)
    if (!r.success) return errors.push({ index, kind: 'invalid', code: 'invalid_contact', message: describeIssues(r.error.issues), ...issuesOf(r.error.issues) })
    const { values, issues } = checkFields(catalog, r.data.fields ?? {})
    if (issues.length > 0) return errors.push({ index, kind: 'invalid', code: 'invalid_field', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), field: issues[0].path, issues })
    valid.push({ index, row: r.data, fields: values })
  })

  const emails = valid.flatMap((v) => (v.row.email ? [v.row.email] : []))
  const externalIds = valid.flatMap((v) => (v.row.externalId ? [v.row.externalId] : []))
  // An identifier a contact kept from a merge still finds it, and is still taken.
  // Asked of every shard: a contact may live on any of the site's.
  const kept = (await data.each((db) => keptOwners(db, site.id, { emails, externalIds }))).flat()
  const ids = [...valid.flatMap((v) => (v.row.id ? [v.row.id] : [])), ...kept.map((k) => k.contactId)]
  const existing = (await data.each((db) => findContacts(db, site.id, { ids, emails, externalIds }))).flat()
  // An id that was erased or merged into another contact is not given to a new one.
  const gone = await movedOrErased(data, valid.flatMap((v) => (v.row.id !== undefined && !existing.some((c) => c.id === v.row.id) ? [v.row.id] : [])))
  const byId = new Map(existing.map((c) => [c.id, c]))
  const byEmail = new Map(existing.flatMap((c) => (c.email ? [[c.email, c] as const] : [])))
  const byExternal = new Map(existing.flatMap((c) => (c.externalId ? [[c.externalId, c] as const] : [])))
  for (const k of kept) {
    const owner = byId.get(k.contactId)
    if (owner) (k.kind === 'email' ? byEmail : byExternal).set(k.value, owner)
  }
  const claimed = { ids: new Map<string, number>(), emails: new Map<string, string>(), externalIds: new Map<string, string>() }
  const planned: PlannedRow[] = []

  for (const { index, row, fields } of valid) {
    const target = row.id !== undefined ? byId.get(row.id)
      : row.externalId ? byExternal.get(row.externalId)
      : row.email ? byEmail.get(row.email)
      : undefined
    if (mode === 'create' && target) {
      errors.push({ index, kind: 'conflict', code: 'contact_exists', message: `Contact "${target.id}" already exists${row.id ? '' : ' with this email or external id'}`, field: row.id ? 'id' : row.externalId ? 'externalId' : 'email' })
      continue
    }
    if (mode === 'update' && !target) {
      errors.push({ index, kind: 'not_found', code: 'contact_not_found', message: `No contact "${row.id}" on this site` })
      continue
    }
    if (!target && row.id !== undefined && gone.has(row.id)) {
      const target = gone.get(row.id)
      errors.push({ index, kind: 'conflict', code: 'contact_id_taken', field: 'id', message: target === null ? `Contact id "${row.id}" belonged to a contact that was erased; use another id` : `Contact id "${row.id}" was merged into contact "${target}"` })
      continue
    }
    const id = target?.id ?? row.id ?? newId('c')
    const twin = claimed.ids.get(id)
    if (twin !== undefined) {
      errors.push({ index, kind: 'invalid', code: 'duplicate_row', message: `${rowName(twin)} already changes contact "${id}"` })
      continue
    }
    const taken = (owner: string) => claimed.ids.get(owner)
    const clash = keyClash('email', row.email, id, byEmail, claimed.emails, taken, rowName) ?? keyClash('externalId', row.externalId, id, byExternal, claimed.externalIds, taken, rowName)
    if (clash) {
      errors.push({ index, ...clash })
      continue
    }
    claimed.ids.set(id, index)
    if (row.email) claimed.emails.set(row.email, id)
    if (row.externalId) claimed.externalIds.set(row.externalId, id)
    planned.push({ index, id, created: !target, change: { id, email: row.email, externalId: row.externalId, fields } })
  }
  return { planned, errors }
}

function keyClash(
  key: 'email' | 'externalId',
  value: string | null | undefined,
  id: string,
  stored: Map<string, Contact>,
  claimed: Map<string, string>,
  rowOf: (contactId: string) => number | undefined,
  rowName: RowName,
): Omit<RowError, 'index'> | undefined {
  if (!value) return undefined
  const words = key === 'email' ? 'email' : 'external id'
  const code = `${key === 'email' ? 'email' : 'external_id'}_taken`
  const holder = stored.get(value)?.id
  if (holder !== undefined) return holder === id ? undefined : { kind: 'conflict', code, message: `Contact "${holder}" already has this ${words}`, field: key }
  // Another row of the request gives it to the contact it makes or changes.
  const owner = claimed.get(value)
  if (owner === undefined || owner === id) return undefined
  return { kind: 'conflict', code, message: `${rowName(rowOf(owner)!)} already gives this ${words} to another contact`, field: key }
}

interface WriteOptions {
  /** A static segment every contact written joins, in the same transaction (an import's "Add to Segment"). */
  segment?: string
  /**
   * Whether the contacts created get their edge snapshot built now. A contact made by an import has none
   * yet, and the edge builds it from D1 when it first needs it: 100,000 new contacts need no rebuilds.
   */
  refreshCreated?: boolean
}

/** Writes planned rows: one transaction on each shard they touch, the contacts' memberships with them. */
async function write(data: SiteData, site: Site, planned: PlannedRow[], changes: Changes, now: number, opts: WriteOptions = {}): Promise<void> {
  for (const [shard, rows] of data.group(planned, (p) => p.id)) {
    const db = shard.db
    const created = rows.filter((p) => p.created).map((p) => p.change)
    const changed = rows.filter((p) => !p.created).map((p) => p.change)
    const writes: D1PreparedStatement[] = []
    if (created.length > 0) writes.push(...insertContacts(db, site.id, created, now))
    if (changed.length > 0) writes.push(...updateContacts(db, site.id, changed))
    // An identifier an admin sets is verified: a browser's claim of the same one has nothing left to say.
    const settled = changed.filter((c) => c.email || c.externalId).map((c) => c.id)
    if (settled.length > 0) writes.push(dropSettledClaims(db, site.id, settled))
    if (opts.segment !== undefined) writes.push(joinSegment(db, site.id, opts.segment, rows.map((p) => p.id), now))
    await writeAndRefresh(data.control, db, site, writes, rows.map((p) => p.id), now)
  }
  changes.contacts(site.id, planned.filter((p) => opts.refreshCreated !== false || !p.created).map((p) => p.id))
}


/** A refused row as the answer lists it: its index, code, words and the field at fault (its kind is the status's). */
const rowJson = ({ kind: _kind, ...row }: RowError) => row

/** Creates or updates one contact; refusals carry the status their cause calls for. */
export async function saveContact(env: Env, site: Site, input: unknown, mode: 'create' | 'update', changes: Changes, now = Date.now()): Promise<Contact> {
  const data = siteData(env, site)
  const { planned, errors } = await plan(data, site, [input], mode)
  if (errors.length > 0) {
    const [{ kind, code, message, field, issues }] = errors
    throw refuse(kind, code, message, { field, issues })
  }
  await write(data, site, planned, changes, now)
  return (await getContact(data.of(planned[0].id), site.id, planned[0].id))!
}

/**
 * Creates or updates up to 1,000 contacts, in one transaction on each shard they live on. If any row is
 * refused nothing is written and every refused row is reported.
 */
export async function upsertContacts(env: Env, site: Site, rows: unknown[], changes: Changes, now = Date.now()) {
  if (rows.length > MAX_BATCH) throw refuse('too_large', 'too_many_rows', `Send at most ${MAX_BATCH} contacts a request (this one has ${rows.length})`)
  const data = siteData(env, site)
  const { planned, errors } = await plan(data, site, rows, 'upsert')
  if (errors.length > 0) {
    errors.sort((a, b) => a.index - b.index)
    throw refuse('invalid', 'invalid_rows', `${errors.length} of ${rows.length} rows were refused; nothing was written`, { extra: { rows: errors.map(rowJson) } })
  }
  await write(data, site, planned, changes, now)
  return {
    created: planned.filter((p) => p.created).length,
    updated: planned.filter((p) => !p.created).length,
    contacts: planned.map((p) => ({ index: p.index, id: p.id, created: p.created })),
  }
}

/**
 * Creates or updates the rows of one chunk of a CSV import, all or nothing, as a batch upsert does: if any
 * row is refused, nothing is written and every refused row is returned. With `segment` (a static segment,
 * checked by the caller), every contact of the chunk joins it in the same transaction. Snapshots are
 * rebuilt for the contacts it changed, not for those it created (see `WriteOptions`).
 */
export async function importRows(env: Env, site: Site, rows: unknown[], changes: Changes, opts: { segment?: string; rowName: RowName; now: number }) {
  const data = siteData(env, site)
  const { planned, errors } = await plan(data, site, rows, 'upsert', opts.rowName)
  if (errors.length > 0) return { errors: errors.sort((a, b) => a.index - b.index), created: 0, updated: 0 }
  await write(data, site, planned, changes, opts.now, { segment: opts.segment, refreshCreated: false })
  const created = planned.filter((p) => p.created).length
  return { errors: [], created, updated: planned.length - created }
}

/**
 * Erases a contact everywhere at once: in D1 its row, activities, memberships, counters, kept identifiers
 * and aliases both ways; at the edge its snapshot and every id that led to it are marked erased, so a
 * browser's id and state token for it get a new, empty contact. Its id is remembered as erased (nothing
 * personal) so that visits still in the queue cannot bring it back.
 */
export async function eraseContact(env: Env, site: Site, id: string, now = Date.now()): Promise<void> {
  const data = siteData(env, site)
  const db = data.of(id)
  if (!(await getContact(db, site.id, id))) throw notFound('contact', id)
  const aliases = await aliasIdsOf(db, site.id, id)
  // What is elsewhere goes first, each step safe to repeat; the contact's own shard last, so that an
  // erasure that fails on the way is done again in full when the admin retries it.
  // Each id merged into it is remembered as erased on its own shard too (where it would be made again),
  // and every shard forgets where it led.
  const elsewhere = new Map(data.group(aliases, (a) => a).map(([shard, list]) => [shard, list]))
  await Promise.all(data.shards.filter((s) => s.db !== db).map((s) => s.db.batch(eraseAliases(s.db, site.id, id, elsewhere.get(s) ?? [], now))))
  await dropDeadLettersOf(data.control, site.id, [id, ...aliases]).run()
  // The edge's marks before D1's row goes (marked again through the queue a minute later, past any rebuild
  // of a visit written meanwhile).
  await markErasedAtTheEdge(env, site.id, [id, ...aliases], now)
  await db.batch(eraseStatements(db, site.id, id, now))
}

/**
 * Merges contact `fromId` into `intoId` (an admin's decision: both may be known). `into` keeps its own
 * values and takes `from`'s where it has none; every email and external id of `from` stays with `into`
 * (verified ones still find it), and `from`'s own values are kept on the merge record. Browsers that held
 * `from` now reach `into`.
 */
export async function mergeContactInto(env: Env, site: Site, fromId: string, intoId: string, changes: Changes, now = Date.now()): Promise<Contact> {
  if (fromId === intoId) throw refuse('invalid', 'same_contact', 'A contact cannot be merged into itself', { field: 'into' })
  const data = siteData(env, site)
  const [here, there] = [data.shardOf(intoId), data.shardOf(fromId)]
  const [from, into, statics] = await Promise.all([
    getContact(there.db, site.id, fromId),
    getContact(here.db, site.id, intoId),
    allSegments(data.control, site.id).then((all) => all.filter((s) => s.type === 'static').map((s) => s.id)),
  ])
  if (!from) throw notFound('contact', fromId)
  if (!into) throw refuse('not_found', 'contact_not_found', `No contact "${intoId}" on this site to merge into`, { field: 'into' })
  const db = here.db
  if (here === there) {
    await writeAndRefresh(data.control, db, site, [...mergeContacts(db, site.id, fromId, intoId, now, 'admin', statics), forgetAggregates(db, site.id, [intoId])], [intoId], now)
  } else {
    // Across shards: `from`'s rows are copied into `into`'s shard with the merge, then let go of on its own.
    const departing = await readDeparting(there.db, site.id, fromId)
    const mergedHere = (await resolveAlias(db, site.id, fromId)) === intoId
    const adopt = adoptDeparting(db, site.id, departing, intoId, now, 'admin', statics, mergedHere)
    await writeAndRefresh(data.control, db, site, [...adopt, forgetAggregates(db, site.id, [intoId])], [intoId], now)
    await there.db.batch([fenceWrites(there.db, site.id), ...releaseDeparting(there.db, site.id, departing, intoId, now, 'admin')])
    await Promise.all(data.shards.filter((s) => s !== here && s !== there).map((s) => repointAliases(s.db, site.id, fromId, intoId).run()))
  }
  await writeSnapshot(env.KV, site.id, { redirect: intoId }, fromId)
  changes.contacts(site.id, [intoId])
  return (await getContact(db, site.id, intoId))!
}

/** An activity as the admin API shows it. */
export function activityJson({ contactId: _contact, amountMilli, at, ...rest }: StoredActivity) {
  return { ...rest, at: new Date(at).toISOString(), ...(amountMilli === undefined ? {} : { amount: amountMilli / 1000 }) }
}

const EXPORT_PAGE = 1000

/**
 * Everything Segue keeps about a contact, for a data-access request: one JSON document, streamed, with
 * its activities read a page at a time (by type, then time) so a long history never sits in memory.
 */
export async function contactExport(env: Env, site: Site, id: string, now = Date.now()): Promise<ReadableStream<Uint8Array>> {
  const data = siteData(env, site)
  const db = data.of(id)
  const contact = await getContact(db, site.id, id)
  if (!contact) throw notFound('contact', id)
  const [segments, counters, kept, merged] = await Promise.all([
    contactSegments(env, site, id),
    countersOf(db, site.id, id),
    keptIdentifiersOf(db, site.id, id),
    aliasesOf(db, site.id, id),
  ])
  const head = {
    exportedAt: new Date(now).toISOString(),
    site: { id: site.id, name: site.name },
    contact: contactJson(contact),
    otherIdentifiers: kept.map((k) => ({ ...k, since: new Date(k.since).toISOString() })),
    segments,
    limitationCounters: Object.entries(counters).map(([key, [runs, lastAt]]) => ({ node: key, runs, lastRunAt: new Date(lastAt).toISOString() })),
    mergedContacts: merged.map((m) => ({ ...m, mergedAt: new Date(m.mergedAt).toISOString() })),
  }
  const encoder = new TextEncoder()
  let after: StoredActivity | undefined
  let first = true
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`${JSON.stringify(head).slice(0, -1)},"activities":[`))
    },
    async pull(controller) {
      const page = await activityPage(db, site.id, id, after, EXPORT_PAGE)
      const text = page.map((a) => JSON.stringify(activityJson(a))).join(',')
      if (text) controller.enqueue(encoder.encode((first ? '' : ',') + text))
      first &&= page.length === 0
      after = page[page.length - 1]
      if (page.length < EXPORT_PAGE) {
        controller.enqueue(encoder.encode(']}'))
        controller.close()
      }
    },
  })
}

/** The segments a contact is in, with names and types. */
export async function contactSegments(env: Env, site: Site, contactId: string) {
  const data = siteData(env, site)
  const [memberships, segments] = await Promise.all([membershipsOf(data.of(contactId), site.id, contactId), allSegments(data.control, site.id)])
  const byId = new Map(segments.map((s) => [s.id, s]))
  return memberships.flatMap((m) => {
    const s = byId.get(m.segmentId)
    return s ? [{ id: s.id, name: s.name, type: s.type, since: new Date(m.since).toISOString(), source: m.source }] : []
  })
}

export const MAX_IMPORT = 1000
/** Clocks disagree a little; an activity from further in the future than this is refused. */
const FUTURE_SLACK_MS = 5 * 60_000

/**
 * Stores past activities of a contact, ignoring ids already stored, then re-evaluates its dynamic
 * segments. Refuses the whole request if any event is malformed.
 */
export async function importActivities(env: Env, site: Site, contactId: string, events: unknown[], changes: Changes, now = Date.now()) {
  const data = siteData(env, site)
  const db = data.of(contactId)
  if (events.length > MAX_IMPORT) throw refuse('too_large', 'too_many_events', `Send at most ${MAX_IMPORT} events a request (this one has ${events.length})`)
  if (!(await getContact(db, site.id, contactId))) throw notFound('contact', contactId)
  const errors: RowError[] = []
  const activities: StoredActivity[] = []
  events.forEach((raw, index) => {
    const r = eventSchema.safeParse(raw)
    if (!r.success) return errors.push({ index, kind: 'invalid', code: 'invalid_event', message: describeIssues(r.error.issues), ...issuesOf(r.error.issues) })
    const a = toActivity(r.data, now)
    if (a.at > now + FUTURE_SLACK_MS) return errors.push({ index, kind: 'invalid', code: 'invalid_event', message: 'at: is in the future', field: 'at' })
    activities.push({ ...a, contactId })
  })
  if (errors.length > 0) {
    throw refuse('invalid', 'invalid_events', `${errors.length} of ${events.length} events were refused; nothing was written`, { extra: { events: errors.map(rowJson) } })
  }
  const latest = Math.max(...activities.map((a) => a.at))
  const inserts = insertActivities(db, site.id, activities)
  // The contact's aggregates are worked out again from its activities, the imported ones with them.
  const results = await writeAndRefresh(data.control, db, site, [...inserts, touchContact(db, site.id, contactId, latest), forgetAggregates(db, site.id, [contactId])], [contactId], now)
  changes.contacts(site.id, [contactId])
  const stored = results.slice(0, inserts.length).reduce((n, r) => n + r.meta.changes, 0)
  return { received: activities.length, stored, duplicates: activities.length - stored }
}
