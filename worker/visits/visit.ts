/**
 * One batch of a browser's events, from the browser id it sent to the answer: which contact the browser
 * is (its sealed browser id, its state token, and one KV read unless the token is fresh), who its
 * identifies say the visitor is (worker/visits/identity.ts), the decision, and the messages that write it
 * all to D1 after the answer.
 *
 * A batch normally decides for one contact. When an identify switches the browser to another person (a
 * shared computer), the events before it are decided for the contact they belong to and the rest for the
 * new one; the answer carries the content, state and browser id of the last.
 */
import { type Device } from './device'
import { siteData } from '../data/shards'
import { type EventsResponse } from '../../shared/protocol'
import { type Scalar } from '../conditions/types'
import { ownerOf } from '../data/identities'
import { DEFAULT_LIMITS } from '../data/sites'
import { refuse } from '../http/errors'
import { newId } from '../lib/ids'
import { type BrowserId, issueBrowserId } from './browser-id'
import { type CompiledSite } from './compile'
import { type Decision, type IncomingEvent, decide } from './decide'
import { type Identifier, type IdentifierKind, checkIdentify, claimStep, verifiedStep } from './identity'
import { type VisitMessage } from '../background/messages'
import { type Snapshot, coversSite, emptySnapshot, mergeSnapshots } from './snapshot'
import { loadSnapshot, readSnapshot } from '../background/store'
import { isFresh, openState, sealState } from './token'

/** An event as the browser sent it: an identify still carries its identifiers and their signature. */
export interface BrowserEvent {
  activity: IncomingEvent['activity']
  /** Its size as stored (bytes of its JSON), counted against the contact's daily cap. */
  bytes: number
  identify?: {
    /** Trimmed and lower-cased. */
    email?: string
    externalId?: string
    signature?: string
    fields?: Record<string, Scalar | null>
  }
}

export interface VisitInput {
  browserId?: string
  /** What `browserId` says, opened already. */
  browser: BrowserId | undefined
  state?: string
  events: BrowserEvent[]
  /** The visitor's device, from the request's client hints or User-Agent (worker/visits/device.ts). */
  device?: Device
}

/** A contact's state as the batch has it, and when that state was last checked against the stored snapshot. */
interface Known {
  snapshot: Snapshot
  /** Sealed into the answer's token: a token checked less than TOKEN_FRESH_MS ago is decided on without KV. */
  checkedAt: number
}

/** The events of a batch that belong to one contact. */
interface Part extends Known {
  isNew: boolean
  mergedFrom?: string
  events: IncomingEvent[]
  bytes: number
  /** Verified identifiers the contact takes in this batch (decide applies them in order). */
  attached: Partial<Record<IdentifierKind, string>>
  claims: Partial<Record<IdentifierKind, string>>
}

/** A batch as far as it has got: the part being filled, and what the parts before it decided. */
interface VisitState {
  env: Env
  site: CompiledSite
  now: number
  part: Part
  /** Snapshots decided in this batch, by contact: an identify that switches back to one goes on from it. */
  decided: Map<string, Known>
  messages: VisitMessage[]
  last?: Known & { decision: Decision }
  /** An identify's signature was refused (and its identifiers kept as claims). */
  refused: boolean
  /** The workflow at which a decision reached the cap of runs. */
  cutShort?: string
  device?: Device
}

export async function visit(env: Env, site: CompiledSite, input: VisitInput, now: number): Promise<{ answer: EventsResponse; messages: VisitMessage[] }> {
  const siteId = site.config.site.id
  const opened = await openContact(env, site, input.browser, input.state, now)
  const state: VisitState = { env, site, now, part: newPart(opened, opened.isNew), decided: new Map(), messages: [], refused: false, device: input.device }
  for (const e of input.events) {
    const id = e.identify
    const attach = id && (id.email !== undefined || id.externalId !== undefined) ? await applyIdentify(state, id) : []
    addEvent(state.part, e, attach)
  }
  closePart(state)
  if (state.refused) console.warn(`identify: a signature for site ${siteId} was expired or not made with its identity secret; kept as an unverified claim`)
  if (state.cutShort) console.warn(`edge: site ${siteId} reached the cap of workflow runs in one request; workflow ${state.cutShort} and what would have followed it did not run`)

  const { decision, snapshot, checkedAt } = state.last!
  const browserId = opened.contactId === snapshot.id && input.browserId ? input.browserId : await issueBrowserId(env.STATE_SECRET, siteId, snapshot.id, now)
  return { answer: { contact: browserId, state: await sealState(env.STATE_SECRET, siteId, snapshot, checkedAt), content: decision.content }, messages: state.messages }
}

function newPart({ snapshot, checkedAt }: Known, isNew: boolean): Part {
  return { snapshot, checkedAt, isNew, events: [], bytes: 0, attached: {}, claims: {} }
}

/** A part for a contact made on this request: nothing stored can be newer than its empty state. */
const freshPart = (state: VisitState) => newPart({ snapshot: emptySnapshot(state.site, newId('c'), state.now), checkedAt: state.now }, true)

/** What the contact is as far as this batch has got: its snapshot with the identifiers it took so far. */
const view = (p: Part): Snapshot => ({ ...p.snapshot, f: { ...p.snapshot.f, ...p.attached } })

/** A contact an identify leads to: as this batch left it, or as stored (checked now), or (unknown anywhere) empty. */
async function contactInBatch(state: VisitState, contactId: string): Promise<Known> {
  const { env, site, now } = state
  return state.decided.get(contactId) ?? { snapshot: (await knownSnapshot(env, site, contactId, now)) ?? emptySnapshot(site, contactId, now), checkedAt: now }
}

/**
 * Where an identify leads: it may merge the part's contact into the one its identifiers belong to, or
 * switch the batch to another contact (closing the part so far), and it leaves the identifiers the
 * contact takes (returned, for the event to carry) and those it may only claim.
 */
async function applyIdentify(state: VisitState, id: NonNullable<BrowserEvent['identify']>): Promise<Identifier[]> {
  const { env, site, now } = state
  const siteId = site.config.site.id
  const who = await checkIdentify(site.config.site, id, now)
  state.refused ||= who.refused !== undefined
  // Where the identify leads is decided from what the contact was before it; the identifiers it
  // vouched for that nobody holds then go to the contact it leads to.
  const taken: Identifier[] = []
  for (const identifier of who.verified) {
    // With D1 unreachable the identifier is taken as nobody's for now: the consumer settles it against D1.
    const step = await verifiedStep(view(state.part), identifier, (x) => orUndefined(ownerOf(siteData(env, site.config.site), siteId, x)))
    if (step.to === 'merge') {
      const part = state.part
      const into = await contactInBatch(state, step.owner)
      // A contact made on this very request has nothing stored to merge: it simply becomes the owner.
      // The merged state is as fresh as the older of the two checks behind it.
      state.part = {
        ...part,
        snapshot: mergeSnapshots(site, into.snapshot, part.snapshot, now),
        checkedAt: Math.min(into.checkedAt, part.checkedAt),
        isNew: false,
        mergedFrom: part.isNew ? undefined : part.snapshot.id,
      }
    } else if (step.to === 'owner') {
      closePart(state)
      state.part = newPart(await contactInBatch(state, step.owner), false)
    } else if (step.to === 'new') {
      closePart(state)
      state.part = freshPart(state)
    }
    if ((step.to === 'self' || step.to === 'new') && step.attach) taken.push(step.attach)
  }
  const attach: Identifier[] = []
  for (const t of taken) {
    const held = view(state.part).f[t.kind]
    if (held === undefined) attach.push(t)
    else if (held !== t.value) state.part.claims[t.kind] = t.value
  }
  if (who.claimed.length > 0) {
    const step = claimStep(view(state.part), who.claimed)
    if (step.to === 'new') {
      closePart(state)
      state.part = freshPart(state)
    }
    for (const c of step.claims) state.part.claims[c.kind] = c.value
  }
  for (const a of attach) state.part.attached[a.kind] = a.value
  return attach
}

/** Adds an event to the part, an identify carrying the identifiers its contact takes. */
function addEvent(part: Part, e: BrowserEvent, attach: Identifier[]): void {
  const identify: IncomingEvent['identify'] = e.identify && { fields: e.identify.fields }
  for (const a of attach) identify![a.kind] = a.value
  part.events.push(identify ? { activity: e.activity, identify } : { activity: e.activity })
  part.bytes += e.bytes
}

/** Decides the part's events for its contact, and leaves the message that writes them to D1. */
function closePart(state: VisitState): void {
  const { site, now, part } = state
  if (part.events.length === 0) return
  const usage = dailyUsage(site, part, now)
  const decision = decide(site, part.snapshot, part.events, now, { device: state.device })
  state.cutShort ??= decision.cutShort?.workflow
  const snapshot: Snapshot = { ...decision.snapshot, v: Math.max(now, part.snapshot.v + 1), q: usage }
  state.decided.set(snapshot.id, { snapshot, checkedAt: part.checkedAt })
  state.messages.push({
    kind: 'visit',
    id: newId('m', 20),
    siteId: site.config.site.id,
    contactId: snapshot.id,
    v: snapshot.v,
    createdAt: part.isNew ? Number(snapshot.f.createdAt) : undefined,
    activities: decision.activities,
    fields: decision.fields,
    claims: Object.keys(part.claims).length > 0 ? part.claims : undefined,
    statics: decision.statics,
    counters: decision.counters.map((key) => [key, snapshot.k[key][0] - (part.snapshot.k[key]?.[0] ?? 0), snapshot.k[key][1]]),
    mergedFrom: part.mergedFrom,
    usage,
    ...(snapshot.z ? { attention: snapshot.z } : {}),
    ...(decision.passes.length > 0 ? { passes: decision.passes } : {}),
  })
  state.last = { decision, snapshot, checkedAt: part.checkedAt }
}

const DAY_MS = 86_400_000

/**
 * What the part's contact has stored today with this part's events: [UTC day, bytes]. Past the site's
 * daily cap the whole request is refused (429 until midnight UTC): nothing is written, nothing dropped.
 */
function dailyUsage(site: CompiledSite, part: Part, now: number): [number, number] {
  const day = Math.floor(now / DAY_MS)
  const before = part.snapshot.q?.[0] === day ? part.snapshot.q[1] : 0
  const cap = site.config.site.limits?.contactBytesPerDay ?? DEFAULT_LIMITS.contactBytesPerDay
  if (before + part.bytes > cap) {
    throw refuse('rate_limited', 'contact_quota', `This visitor stored ${before} of the ${cap} bytes a day this site allows; try again tomorrow`, {
      retryAfter: Math.ceil(((day + 1) * DAY_MS - now) / 1000),
    })
  }
  return [day, before + part.bytes]
}

/** Clocks of the Worker's locations disagree a little; an id is refused only if issued clearly before its contact. */
const CLOCK_SLACK_MS = 60_000

/**
 * The contact a browser id names, at its newest. A state token checked against the stored snapshot less
 * than TOKEN_FRESH_MS ago is the newest within a session, and is decided on alone: no KV read. Otherwise
 * the KV snapshot or the token, whichever is newer; D1 only when neither holds it. An id this Worker did
 * not issue, a contact erased since, or an id issued before its contact was created (for an erased contact
 * whose id was given to another) gets a new contact, and no D1 query.
 *
 * An admin's change to the contact (an erasure, a merge) is therefore seen within TOKEN_FRESH_MS; until
 * then the queue consumer settles the visits decided without it (docs/edge.md).
 */
async function openContact(env: Env, site: CompiledSite, opened: BrowserId | undefined, token: string | undefined, now: number): Promise<Known & { isNew: boolean; contactId?: string }> {
  const siteId = site.config.site.id
  let snapshot: Snapshot | undefined
  let checkedAt = now
  if (opened !== undefined) {
    const sealed = await openState(env.STATE_SECRET, siteId, opened.contactId, token, now)
    const fresh = sealed && isFresh(sealed, now)
    const stored = fresh ? undefined : await readSnapshot(env.KV, siteId, opened.contactId)
    if (stored && 'redirect' in stored) snapshot = await knownSnapshot(env, site, stored.redirect, now)
    else if (!stored || !('erased' in stored)) {
      snapshot = stored && (!sealed || stored.v >= sealed.snapshot.v) ? stored : sealed?.snapshot
      if (fresh) checkedAt = sealed.checkedAt
      // Neither KV nor the token has it: D1 does, unless D1 is unreachable, when the contact is decided
      // for as if it had no history (its visit is still written to it, by the consumer, later).
      snapshot ??= await loadSnapshot(siteData(env, site.config.site), site, opened.contactId, now).catch((err) => (logUnreachable(err), unknownSnapshot(site, opened.contactId, now)))
      if (snapshot && opened.issuedAt < Number(snapshot.f.createdAt) - CLOCK_SLACK_MS) snapshot = undefined
    }
  }
  if (!snapshot) return { snapshot: emptySnapshot(site, newId('c'), now), checkedAt: now, isNew: true, contactId: undefined }
  return { snapshot: coversSite(snapshot, site) ? snapshot : await coverNewMatchers(env, site, snapshot, now), checkedAt, isNew: false, contactId: opened?.contactId }
}

/** A known contact's snapshot, from KV or else from D1; undefined when it was erased or never existed. */
async function knownSnapshot(env: Env, site: CompiledSite, contactId: string, now: number): Promise<Snapshot | undefined> {
  const stored = await readSnapshot(env.KV, site.config.site.id, contactId)
  if (stored && 'erased' in stored) return undefined
  if (stored && !('redirect' in stored)) return coversSite(stored, site) ? stored : coverNewMatchers(env, site, stored, now)
  return loadSnapshot(siteData(env, site.config.site), site, contactId, now).catch((err) => (logUnreachable(err), unknownSnapshot(site, contactId, now)))
}

/**
 * The site's conditions count activities this snapshot has no aggregate for (a segment was added since
 * it was built): take those aggregates from D1, keep the rest of the snapshot as it is.
 */
async function coverNewMatchers(env: Env, site: CompiledSite, snapshot: Snapshot, now: number): Promise<Snapshot> {
  const fresh = await orUndefined(loadSnapshot(siteData(env, site.config.site), site, snapshot.id, now))
  // D1 unreachable: decide without the new aggregates; the next request asks again.
  if (!fresh) return snapshot
  const covered = new Set(snapshot.x)
  const a = { ...snapshot.a }
  for (const key of site.matchers.keys()) {
    if (covered.has(key)) continue
    if (fresh?.a[key]) a[key] = fresh.a[key]
  }
  return { ...snapshot, a, x: [...site.matchers.keys()] }
}

/** A known contact's state when D1, the only place that has it, cannot be reached: nothing known yet. */
function unknownSnapshot(site: CompiledSite, contactId: string, now: number): Snapshot {
  const snap = emptySnapshot(site, contactId, now)
  delete snap.f.createdAt
  return snap
}

/** A D1 read the decision can do without: undefined (and a log line) when D1 cannot be reached. */
async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read
  } catch (err) {
    logUnreachable(err)
    return undefined
  }
}

function logUnreachable(err: unknown): void {
  console.error('edge: D1 could not be read; deciding without it', err)
}
