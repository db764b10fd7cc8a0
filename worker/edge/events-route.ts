/**
 * POST /v1/events: the browser's one request. Reads the site config (isolate memory) and the contact's
 * snapshot (one KV read, raced against the state token), decides in memory, answers, and leaves the
 * writing to the queue consumer.
 */
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import { type EventsResponse, MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH } from '../../shared/protocol'
import { type Scalar } from '../conditions/types'
import { CONTACT_ID, checkFields, email as emailSchema } from '../contacts/schema'
import { contactIdByEmail } from '../data/merge'
import { browserEventSchema, toActivity } from '../events/schema'
import { apiError } from '../http/errors'
import { describeIssues, parse, parseBody } from '../http/validate'
import { newId } from '../lib/ids'
import { type CompiledSite } from './compile'
import { siteByKey } from './config'
import { type IncomingEvent, decide } from './decide'
import { type VisitMessage } from './messages'
import { type Snapshot, coversSite, emptySnapshot, mergeSnapshots } from './snapshot'
import { loadSnapshot, readSnapshot } from './store'
import { openState, sealState } from './token'

const envelope = z.strictObject({
  site: z.string().min(1).max(100),
  contact: z.string().max(200).optional(),
  state: z.string().max(8192).optional(),
  events: z.array(z.unknown()).min(1, 'send at least one event').max(MAX_EVENTS_PER_BATCH, `send at most ${MAX_EVENTS_PER_BATCH} events a batch`),
})

export const eventsRoutes = new Hono<{ Bindings: Env }>()
  .options('/v1/events', (c) => {
    // The preflight cannot know the site (it is in the body): the POST itself checks the origin.
    const origin = c.req.header('origin')
    if (origin) {
      c.header('access-control-allow-origin', origin)
      c.header('access-control-allow-methods', 'POST')
      c.header('access-control-allow-headers', 'content-type')
      c.header('access-control-max-age', '86400')
      c.header('vary', 'origin')
    }
    return c.body(null, 204)
  })
  .post('/v1/events', async (c) => {
    const now = Date.now()
    const body = parse(envelope, parseBody(await readBody(c)))
    const site = await siteByKey(c.env, body.site, (p) => c.executionCtx.waitUntil(p))
    if (!site) throw apiError(404, 'unknown_site', 'No site has this key')
    const origin = c.req.header('origin')
    if (origin) {
      if (!site.config.site.allowedOrigins.includes(origin)) throw apiError(403, 'origin_not_allowed', `${origin} is not one of this site's allowed origins`)
      c.header('access-control-allow-origin', origin)
      c.header('vary', 'origin')
    }
    const events = readEvents(site, body.events, now)

    let { snapshot, isNew } = await currentSnapshot(c.env, site, body.contact, body.state, now)
    let mergedFrom: string | undefined
    const email = [...events].reverse().find((e) => e.identify?.email)?.identify?.email
    if (email && email !== snapshot.f.email) {
      // An identify with an email another contact has: this visitor is that contact.
      const owner = await contactIdByEmail(c.env.DB, site.config.site.id, email)
      if (owner && owner !== snapshot.id) {
        const known = (await knownSnapshot(c.env, site, owner, now)) ?? { ...emptySnapshot(site, owner, now), f: { email } }
        mergedFrom = snapshot.id
        snapshot = mergeSnapshots(site, known, snapshot, now)
        isNew = false
      }
    }

    const decision = decide(site, snapshot, events, now)
    const next: Snapshot = { ...decision.snapshot, v: Math.max(now, snapshot.v + 1) }
    const message: VisitMessage = {
      kind: 'visit',
      siteId: site.config.site.id,
      contactId: next.id,
      v: next.v,
      createdAt: isNew ? Number(next.f.createdAt) : undefined,
      activities: decision.activities,
      fields: decision.fields,
      statics: decision.statics,
      counters: decision.counters.map((key) => [key, ...next.k[key]]),
      mergedFrom,
    }
    c.executionCtx.waitUntil(c.env.EVENTS.send(message))
    const answer: EventsResponse = { contact: next.id, state: await sealState(c.env.STATE_SECRET, site.config.site.id, next), content: decision.content }
    return c.json(answer)
  })

async function readBody(c: Context): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? 0)
  if (declared > MAX_BODY_BYTES) throw apiError(413, 'payload_too_large', `Send at most ${MAX_BODY_BYTES / 1024} KB a request`)
  const bytes = await c.req.arrayBuffer()
  if (bytes.byteLength > MAX_BODY_BYTES) throw apiError(413, 'payload_too_large', `Send at most ${MAX_BODY_BYTES / 1024} KB a request`)
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw apiError(400, 'invalid_encoding', 'The request body is not UTF-8')
  }
}

/** Validates every event before any is applied: one bad event refuses the batch. */
function readEvents(site: CompiledSite, raw: unknown[], now: number): IncomingEvent[] {
  return raw.map((value, index) => {
    const r = browserEventSchema.safeParse(value)
    if (!r.success) throw apiError(400, 'invalid_event', `events[${index}]: ${describeIssues(r.error.issues)}`)
    const e = r.data
    // The Worker's clock, not the browser's, says when things happened.
    const activity = toActivity({ ...e, at: undefined }, now)
    if (e.type !== 'identify') return { activity }
    const identify: IncomingEvent['identify'] = {}
    if (e.email !== undefined) {
      const parsed = emailSchema.safeParse(e.email)
      if (!parsed.success) throw apiError(400, 'invalid_event', `events[${index}].email: must be an email address`)
      identify.email = parsed.data
    }
    if (e.externalId !== undefined) identify.externalId = e.externalId
    if (e.fields) {
      const refused = Object.keys(e.fields).find((k) => !site.config.site.browserFields.includes(k))
      if (refused) throw apiError(400, 'field_not_allowed', `events[${index}].fields.${refused}: this site does not let a browser set it`)
      const { values, problems } = checkFields(site.catalog, e.fields)
      if (problems.length > 0) throw apiError(400, 'invalid_event', `events[${index}].${problems[0]}`)
      identify.fields = values as Record<string, Scalar | null>
    }
    return { activity, identify }
  })
}

/**
 * The contact's state: the newer of its KV snapshot and the token it sent. Only a contact neither
 * holds (a first visit, or a snapshot KV lost) costs a D1 read; an id nobody knows gets a new contact.
 */
async function currentSnapshot(env: Env, site: CompiledSite, contactId: string | undefined, token: string | undefined, now: number) {
  const siteId = site.config.site.id
  let snapshot: Snapshot | undefined
  if (contactId !== undefined && CONTACT_ID.test(contactId)) {
    const [stored, sealed] = await Promise.all([readSnapshot(env.KV, siteId, contactId), openState(env.STATE_SECRET, siteId, contactId, token)])
    if (stored && 'redirect' in stored) {
      snapshot = await knownSnapshot(env, site, stored.redirect, now)
    } else {
      snapshot = stored && (!sealed || stored.v >= sealed.v) ? stored : sealed
      snapshot ??= await loadSnapshot(env.DB, site, contactId, now)
    }
  }
  if (!snapshot) return { snapshot: emptySnapshot(site, newId('c'), now), isNew: true }
  if (!coversSite(snapshot, site)) snapshot = await coverNewMatchers(env, site, snapshot, now)
  return { snapshot, isNew: false }
}

/** A known contact's snapshot, from KV or else from D1. */
async function knownSnapshot(env: Env, site: CompiledSite, contactId: string, now: number): Promise<Snapshot | undefined> {
  const stored = await readSnapshot(env.KV, site.config.site.id, contactId)
  if (stored && !('redirect' in stored)) return coversSite(stored, site) ? stored : coverNewMatchers(env, site, stored, now)
  return loadSnapshot(env.DB, site, contactId, now)
}

/**
 * The site's conditions count activities this snapshot has no aggregate for (a segment was added since
 * it was built): take those aggregates from D1, keep the rest of the snapshot as it is.
 */
async function coverNewMatchers(env: Env, site: CompiledSite, snapshot: Snapshot, now: number): Promise<Snapshot> {
  const fresh = await loadSnapshot(env.DB, site, snapshot.id, now)
  const covered = new Set(snapshot.x)
  const a = { ...snapshot.a }
  for (const key of site.matchers.keys()) {
    if (covered.has(key)) continue
    if (fresh?.a[key]) a[key] = fresh.a[key]
  }
  return { ...snapshot, a, x: [...site.matchers.keys()] }
}
