/**
 * POST /v1/events: the browser's one request. The door: the envelope, the body (64 KB, UTF-8), the site
 * and its allowed origins, and every event validated before any is applied. Then worker/visits/visit.ts
 * decides, the answer goes back, and the queue consumer writes it all to D1 afterwards.
 */
import { deviceOf } from './device'
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import { type EventsResponse, MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH } from '../../shared/protocol'
import { type Scalar } from '../conditions/types'
import { checkFields, email as emailSchema } from '../contacts/schema'
import { browserEventSchema, toActivity } from '../events/schema'
import { DEFAULT_LIMITS, type RateLimitTier } from '../data/sites'
import { Refusal, refusalResponse, refuse } from '../http/errors'
import { decodeUtf8, describeIssues, parse, parseBody } from '../http/validate'
import { isCrawler } from './bots'
import { MAX_BROWSER_ID_CHARS, openBrowserId } from './browser-id'
import { type CompiledSite } from './compile'
import { siteByKey, siteKeyCached } from './site-config'
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
    const client = clientOf(c.req.header('cf-connecting-ip'))
    // A key this isolate does not know costs a KV (and maybe a D1) read: each client may ask only so often.
    if (!siteKeyCached(body.site) && !(await c.env.RATE_VISITOR.limit({ key: `site-lookup:${client}` })).success) return tooMany(c, 60, 'Too many requests from this client')
    const site = await siteByKey(c.env, body.site, (p) => c.executionCtx.waitUntil(p)).catch((err) => {
      // Only a site KV has not seen yet needs D1: with D1 unreachable there is nothing to decide with.
      console.error('edge: the site config could not be loaded', err)
      throw unavailable()
    })
    if (!site) throw refuse('not_found', 'unknown_site', 'No site has this key')
    const origin = c.req.header('origin')
    if (origin) {
      if (!site.config.site.allowedOrigins.includes(origin)) throw refuse('forbidden', 'origin_not_allowed', `${origin} is not one of this site's allowed origins`)
      c.header('access-control-allow-origin', origin)
      c.header('vary', 'origin')
    }
    try {
      // Crawlers are answered, and cost nothing: no contact, no decision, no write.
      if (isCrawler(c.req.header('user-agent'))) return c.json({ content: [] } satisfies EventsResponse)
      const browser = await openBrowserId(c.env.STATE_SECRET, site.config.site.id, body.contact)
      const limited = await rateLimited(c.env, site, client, browser !== undefined)
      if (limited) return tooMany(c, limited.retryAfter, limited.message)
      const events = readEvents(site, body.events, now)
      const { answer, messages } = await visit(c.env, site, { browserId: body.contact, browser, state: body.state, events, device: deviceOf(c.req.raw.headers) }, now)
      if (messages.length > 0) c.executionCtx.waitUntil(c.env.EVENTS.sendBatch(messages.map((m) => ({ body: m }))))
      return c.json(answer)
    } catch (err) {
      // A refusal past the origin check is the allowed page's to read: it carries the CORS headers too.
      if (!(err instanceof Refusal) || !origin) throw err
      const res = refusalResponse(err)
      res.headers.set('access-control-allow-origin', origin)
      res.headers.set('vary', 'origin')
      return res
    }
  })

function tooMany(c: Context, retryAfter: number, message: string): Response {
  c.header('retry-after', String(retryAfter))
  return c.json({ error: { code: 'rate_limited', message } }, 429)
}

const unavailable = () => refuse('unavailable', 'unavailable', 'Segue cannot load this site right now; try again shortly', { retryAfter: 30 })

/**
 * The body, read as it streams in and refused as soon as it passes MAX_BODY_BYTES: a body without a
 * Content-Length (chunked) is never read whole before the check.
 */
async function readBody(c: Context): Promise<string> {
  const tooLarge = () => refuse('too_large', 'payload_too_large', `Send at most ${MAX_BODY_BYTES / 1024} KB a request`)
  if (Number(c.req.header('content-length') ?? 0) > MAX_BODY_BYTES) throw tooLarge()
  const bytes = new Uint8Array(MAX_BODY_BYTES)
  let size = 0
  const reader = c.req.raw.body?.getReader()
  for (let chunk = await reader?.read(); reader && chunk && !chunk.done; chunk = await reader.read()) {
    if (size + chunk.value.byteLength > MAX_BODY_BYTES) {
      await reader.cancel()
      throw tooLarge()
    }
    bytes.set(chunk.value, size)
    size += chunk.value.byteLength
  }
  return decodeUtf8(bytes.subarray(0, size))
}

type Limiters = Record<RateLimitTier, RateLimit>

const visitorLimiters = (env: Env): Limiters => ({ strict: env.RATE_VISITOR_STRICT, standard: env.RATE_VISITOR, relaxed: env.RATE_VISITOR_RELAXED })
const siteLimiters = (env: Env): Limiters => ({ strict: env.RATE_SITE_STRICT, standard: env.RATE_SITE, relaxed: env.RATE_SITE_RELAXED })

/**
 * Who a client is, for its rate limit: its IP, or for IPv6 its /64 (what one subscriber gets), so that
 * walking through the addresses of one network gains nothing.
 */
export function clientOf(ip: string | undefined): string {
  if (!ip) return 'unknown'
  if (!ip.includes(':')) return ip
  const [head, tail = ''] = ip.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`
}

/**
 * Checks the site's rate limits (its tier: wrangler.toml's limiters) for this client within the site, and
 * for the whole site. A request from a returning visitor (a browser id this Worker issued) is not counted
 * against the whole site: a flood of made-up requests then turns away new visitors, never the site's own.
 */
async function rateLimited(env: Env, site: CompiledSite, client: string, returning: boolean): Promise<{ retryAfter: number; message: string } | undefined> {
  const tier = site.config.site.limits?.rate ?? DEFAULT_LIMITS.rate
  const { key, id } = site.config.site
  const [visitor, whole] = await Promise.all([
    visitorLimiters(env)[tier].limit({ key: `${key}:${client}` }),
    returning ? { success: true } : siteLimiters(env)[tier].limit({ key: id }),
  ])
  if (!visitor.success) return { retryAfter: 60, message: 'Too many requests from this visitor: try again in a minute' }
  if (!whole.success) return { retryAfter: 10, message: 'Too many requests to this site: try again in a few seconds' }
  return undefined
}

/**
 * Validates every event before any is applied: one bad event refuses the batch. An event id repeated in
 * the batch counts once (the first), as D1 keeps it once.
 */
function readEvents(site: CompiledSite, raw: unknown[], now: number): BrowserEvent[] {
  const maxBytes = site.config.site.limits?.eventBytes ?? DEFAULT_LIMITS.eventBytes
  const seen = new Set<string>()
  return raw.flatMap((value, index) => {
    const event = readEvent(site, value, index, now)
    const bytes = new TextEncoder().encode(JSON.stringify(event)).length
    if (bytes > maxBytes) throw refuse('too_large', 'event_too_large', `events[${index}]: ${bytes} bytes; this site stores events of at most ${maxBytes} bytes`)
    if (seen.has(event.activity.id)) return []
    seen.add(event.activity.id)
    return [{ ...event, bytes }]
  })
}

function readEvent(site: CompiledSite, value: unknown, index: number, now: number): Omit<BrowserEvent, 'bytes'> {
  const r = browserEventSchema.safeParse(value)
  if (!r.success) throw refuse('invalid', 'invalid_event', `events[${index}]: ${describeIssues(r.error.issues)}`)
  const e = r.data
  // The Worker's clock, not the browser's, says when things happened.
  const activity = toActivity({ ...e, at: undefined }, now)
  if (e.type !== 'identify') return { activity }
  const identify: BrowserEvent['identify'] = {}
  if (e.email !== undefined) {
    const parsed = emailSchema.safeParse(e.email)
    if (!parsed.success) throw refuse('invalid', 'invalid_event', `events[${index}].email: must be an email address`)
    identify.email = parsed.data
    // What the site signed is what is kept: a signed address must already be in the form Segue keeps.
    if (e.signature !== undefined && parsed.data !== e.email) {
      throw refuse('invalid', 'invalid_event', `events[${index}].email: a signed email must be sent trimmed and lower-cased, as it is signed and kept ("${parsed.data}")`)
    }
  }
  if (e.externalId !== undefined) identify.externalId = e.externalId
  if (e.signature !== undefined) {
    if ((identify.email === undefined) === (identify.externalId === undefined)) {
      throw refuse('invalid', 'invalid_event', `events[${index}].signature: a signature vouches for one identifier: send it with an email or an external id, not both`)
    }
    identify.signature = e.signature
  }
  if (e.fields) {
    const refused = Object.keys(e.fields).find((k) => !site.config.site.browserFields.includes(k))
    if (refused) throw refuse('invalid', 'field_not_allowed', `events[${index}].fields.${refused}: this site does not let a browser set it`)
    const { values, issues } = checkFields(site.catalog, e.fields)
    if (issues.length > 0) throw refuse('invalid', 'invalid_event', `events[${index}].${issues[0].path}: ${issues[0].message}`, { field: `events[${index}].${issues[0].path}` })
    identify.fields = values as Record<string, Scalar | null>
  }
  return { activity, identify }
}
