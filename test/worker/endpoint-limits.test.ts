/**
 * The public endpoint under abuse: bodies refused while they stream, events too large, repeated event
 * ids, crawlers, and the rate limits of a site's tier.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'
import { rowsOf } from './fixtures'

const edge = new Edge()
const SITE = 'limits'
const KEY = 'pk_limits_test'

beforeAll(async () => {
  await edge.seedDemo(SITE, KEY)
})

const eventsOf = (contactId: string) => rowsOf<{ id: string }>(SITE, 'SELECT id, contact_id FROM events WHERE site_id = ?1 AND contact_id = ?2', SITE, contactId)

describe('bodies', () => {
  it('refuses a chunked body (no Content-Length) as soon as it passes 64 KB, without reading the rest', async () => {
    let pulled = 0
    const chunk = new TextEncoder().encode(' '.repeat(16 * 1024))
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 30 MB on offer; a reader that read it all would pull about 1,900 chunks.
        if (++pulled > 1920) return controller.close()
        controller.enqueue(chunk)
      },
    })
    const res = await edge.fetch('/v1/events', { method: 'POST', body, headers: { 'content-type': 'text/plain' }, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } })
    expect(pulled).toBeLessThan(10)
    expect(edge.queue).toHaveLength(0)
  })
})

describe('events', () => {
  it('refuses an event larger than the site stores, writing nothing', async () => {
    const props = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, 'x'.repeat(1000)]))
    const res = await edge.send({ site: KEY, events: [pageVisit(), { id: eid(), type: 'custom', name: 'stuffed', props }] })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: { code: 'event_too_large', message: expect.stringContaining('events[1]') } })
    expect(edge.queue).toHaveLength(0)
  })

  it('counts an event id repeated in one request once, at the edge and in D1', async () => {
    await edge.admin('POST', `/sites/${SITE}/segments`, {
      id: 'seg_twice', name: 'Bought twice', type: 'dynamic', conditions: { all: [{ activity: 'purchase', count: { op: 'gte', value: 2 } }] },
    })
    await edge.admin('POST', `/sites/${SITE}/content`, { id: 'twice', name: 'Twice', format: 'bar', title: 'Thanks for coming back' })
    await edge.admin('POST', `/sites/${SITE}/workflows`, {
      id: 'wf_twice', name: 'Twice', status: 'active', start: { trigger: { type: 'page_visit' }, limitation: { segment: 'seg_twice' } },
      entry: 'show', nodes: { show: { type: 'showContent', content: 'twice' } },
    })
    const order = { id: eid(), type: 'purchase', amount: 10 }
    const answer = await edge.events({ site: KEY, events: [order, order, pageVisit()] })
    expect(answer.content.map((c) => c.id)).not.toContain('twice')
    await edge.flush()
    const id = await edge.contactOf(SITE, answer)
    expect((await eventsOf(id)).filter((e) => e.id === order.id)).toHaveLength(1)
    const segments = await edge.admin<{ items: Array<{ id: string }> }>('GET', `/sites/${SITE}/contacts/${id}/segments`)
    expect(segments.body.items.map((s) => s.id)).not.toContain('seg_twice')
  })

  it('keeps event ids apart per contact: the same order id imported for two contacts is stored for both', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts/batch`, { contacts: [{ id: 'buyer-a' }, { id: 'buyer-b' }] })
    for (const contact of ['buyer-a', 'buyer-b']) {
      const res = await edge.admin('POST', `/sites/${SITE}/contacts/${contact}/events`, { events: [{ id: 'order-1001', type: 'purchase', amount: 12 }] })
      expect(res.body).toEqual({ received: 1, stored: 1, duplicates: 0 })
    }
    const again = await edge.admin('POST', `/sites/${SITE}/contacts/buyer-a/events`, { events: [{ id: 'order-1001', type: 'purchase', amount: 12 }] })
    expect(again.body).toEqual({ received: 1, stored: 0, duplicates: 1 })
  })
})

describe('what a contact stores in a day', () => {
  it('is capped by the site: past it the request is refused with 429 until midnight UTC, and nothing is written', async () => {
    await edge.admin('PATCH', `/sites/${SITE}`, { limits: { contactBytesPerDay: 16_384 } })
    const visit = () => ({ id: eid(), type: 'page_visit', url: `${ORIGIN}/${'p'.repeat(1800)}` })
    let answer = await edge.events({ site: KEY, events: [visit()] })
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      const res = await edge.send({ site: KEY, contact: answer.contact, state: answer.state, events: [visit(), visit()] })
      statuses.push(res.status)
      if (res.status === 200) answer = await res.json()
      else {
        expect(await res.json()).toMatchObject({ error: { code: 'contact_quota' } })
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      }
    }
    expect(statuses).toContain(429)
    expect(statuses.indexOf(429)).toBeGreaterThan(2)
    await edge.flush()
    // Once the queue has rebuilt the snapshot from D1, the count still holds (KV carries it).
    const fromKv = await edge.send({ site: KEY, contact: answer.contact, events: [visit(), visit()] })
    expect(fromKv.status).toBe(429)
    const stored = (await eventsOf(await edge.contactOf(SITE, answer))).length
    expect(stored).toBe(1 + 2 * statuses.filter((s) => s === 200).length)
    await edge.admin('PATCH', `/sites/${SITE}`, { limits: { contactBytesPerDay: 262_144 } })
  })

  it('and the size of events are settings a site owner sees and sets, within bounds', async () => {
    const site = await edge.admin('GET', `/sites/${SITE}`)
    expect(site.body).toMatchObject({ limits: { rate: expect.any(String), eventBytes: expect.any(Number), contactBytesPerDay: expect.any(Number) } })
    for (const limits of [{ rate: 'unlimited' }, { eventBytes: 100 }, { contactBytesPerDay: 10 ** 9 }, { other: 1 }]) {
      expect((await edge.admin('PATCH', `/sites/${SITE}`, { limits })).status, JSON.stringify(limits)).toBe(400)
    }
  })
})

describe('identifiers', () => {
  it('refuses an external id with white space around it, which the admin API would keep trimmed', async () => {
    const res = await edge.send({ site: KEY, events: [{ id: eid(), type: 'identify', externalId: ' crm-1 ' }] })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_event', message: expect.stringContaining('externalId') } })
  })
})

describe('crawlers', () => {
  it('are answered without a contact, a decision or a write', async () => {
    await edge.flush()
    const res = await edge.fetch('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
      body: JSON.stringify({ site: KEY, events: [pageVisit()] }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ content: [] })
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(edge.queue).toHaveLength(0)
  })
})

describe('rate limits', () => {
  it('answer 429 with Retry-After once a visitor passes its tier, and keep other visitors going', async () => {
    // The strict tier: 60 requests a minute per visitor (wrangler.toml's limiters).
    const patched = await edge.admin('PATCH', `/sites/${SITE}`, { limits: { rate: 'strict' } })
    expect(patched.body).toMatchObject({ limits: { rate: 'strict', eventBytes: 4096, contactBytesPerDay: 262144 } })
    const limited = new Edge({ RATE_VISITOR_STRICT: env.RATE_VISITOR_STRICT, RATE_SITE_STRICT: env.RATE_SITE_STRICT })
    const from = (ip: string) =>
      limited.fetch('/v1/events', { method: 'POST', headers: { 'content-type': 'text/plain', 'cf-connecting-ip': ip }, body: JSON.stringify({ site: KEY, events: [pageVisit()] }) })
    const statuses: number[] = []
    for (let i = 0; i < 61; i++) statuses.push((await from('203.0.113.7')).status)
    expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true)
    const over = await from('203.0.113.7')
    expect(over.status).toBe(429)
    expect(over.headers.get('retry-after')).toBe('60')
    expect(await over.json()).toMatchObject({ error: { code: 'rate_limited' } })
    expect((await from('198.51.100.4')).status).toBe(200)
    limited.queue.splice(0)
  })

  it('count the addresses of one IPv6 network (/64) as one visitor', async () => {
    const { clientOf } = await import('../../worker/visits/events-route')
    expect(clientOf('2001:db8:1:2:aaaa::1')).toBe(clientOf('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee'))
    expect(clientOf('2001:db8:1:2::1')).not.toBe(clientOf('2001:db8:1:3::1'))
    expect(clientOf('203.0.113.7')).toBe('203.0.113.7')
  })

  it('turn away new visitors when a site is flooded, never its returning ones', async () => {
    const flooded = new Edge({ RATE_SITE: { limit: async () => ({ success: false }) } as RateLimit })
    const returning = await edge.events({ site: KEY, events: [pageVisit()] })
    await edge.admin('PATCH', `/sites/${SITE}`, { limits: { rate: 'standard' } })
    expect((await flooded.send({ site: KEY, events: [pageVisit()] })).status).toBe(429)
    expect((await flooded.send({ site: KEY, contact: returning.contact, state: returning.state, events: [pageVisit()] })).status).toBe(200)
    flooded.queue.splice(0)
  })

  it('let a page read a refusal: a 429 past the daily cap carries the CORS headers', async () => {
    await edge.admin('PATCH', `/sites/${SITE}`, { limits: { contactBytesPerDay: 16_384 } })
    const big = () => ({ id: eid(), type: 'page_visit', url: `${ORIGIN}/${'q'.repeat(1900)}` })
    let res = await edge.send({ site: KEY, events: Array.from({ length: 10 }, big) })
    expect(res.status).toBe(429)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    res = await edge.send({ site: KEY, events: [pageVisit()] })
    expect(res.status).toBe(200)
    await edge.admin('PATCH', `/sites/${SITE}`, { limits: { contactBytesPerDay: 262_144 } })
    edge.queue.splice(0)
  })
})
