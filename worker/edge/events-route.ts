/**
 * POST /v1/events: the browser's one request. The door: the envelope, the body (64 KB, UTF-8), the site
 * and its allowed origins, and every event validated before any is applied. Then worker/edge/visit.ts
 * decides, the answer goes back, and the queue consumer writes it all to D1 afterwards.
 */
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import { MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH } from '../../shared/protocol'
import { type Scalar } from '../conditions/types'
import { checkFields, email as emailSchema } from '../contacts/schema'
import { browserEventSchema, toActivity } from '../events/schema'
import { apiError } from '../http/errors'
import { describeIssues, parse, parseBody } from '../http/validate'
import { MAX_BROWSER_ID_CHARS } from './browser-id'
import { type CompiledSite } from './compile'
import { siteByKey } from './config'
import { type BrowserEvent, visit } from './visit'

const envelope = z.strictObject({
  site: z.string().min(1).max(100),
  contact: z.string().max(MAX_BROWSER_ID_CHARS).optional(),
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
    const { answer, messages } = await visit(c.env, site, { browserId: body.contact, state: body.state, events }, now)
    if (messages.length > 0) c.executionCtx.waitUntil(c.env.EVENTS.sendBatch(messages.map((m) => ({ body: m }))))
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
function readEvents(site: CompiledSite, raw: unknown[], now: number): BrowserEvent[] {
  return raw.map((value, index) => {
    const r = browserEventSchema.safeParse(value)
    if (!r.success) throw apiError(400, 'invalid_event', `events[${index}]: ${describeIssues(r.error.issues)}`)
    const e = r.data
    // The Worker's clock, not the browser's, says when things happened.
    const activity = toActivity({ ...e, at: undefined }, now)
    if (e.type !== 'identify') return { activity }
    const identify: BrowserEvent['identify'] = {}
    if (e.email !== undefined) {
      const parsed = emailSchema.safeParse(e.email)
      if (!parsed.success) throw apiError(400, 'invalid_event', `events[${index}].email: must be an email address`)
      identify.email = parsed.data
      // What the site signed is what is kept: a signed address must already be in the form Segue keeps.
      if (e.signature !== undefined && parsed.data !== e.email) {
        throw apiError(400, 'invalid_event', `events[${index}].email: a signed email must be sent trimmed and lower-cased, as it is signed and kept ("${parsed.data}")`)
      }
    }
    if (e.externalId !== undefined) identify.externalId = e.externalId
    if (e.signature !== undefined) {
      if ((identify.email === undefined) === (identify.externalId === undefined)) {
        throw apiError(400, 'invalid_event', `events[${index}].signature: a signature vouches for one identifier: send it with an email or an external id, not both`)
      }
      identify.signature = e.signature
    }
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
