/**
 * What POST /v1/events does with bad input and foreign origins: a 4xx with the error shape, nothing
 * queued (so nothing written), and no event of a refused batch applied.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'

const edge = new Edge()
const KEY = 'pk_inputshop_test'

beforeAll(async () => {
  await edge.seedDemo('inputshop', KEY)
})

async function refused(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status)
  const body = await res.json<{ error: { code: string; message: string } }>()
  expect(body.error.message.length).toBeGreaterThan(5)
  if (code) expect(body.error.code).toBe(code)
  expect(edge.queue).toEqual([])
}

describe('POST /v1/events refuses', () => {
  it('an unknown site key with 404', async () => {
    await refused(await edge.send({ site: 'pk_nobody', events: [pageVisit()] }), 404, 'unknown_site')
  })

  it('an origin the site does not allow with 403, without CORS headers', async () => {
    const res = await edge.send({ site: KEY, events: [pageVisit()] }, { origin: 'https://evil.example' })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    await refused(res, 403, 'origin_not_allowed')
  })

  const batches: Array<[string, unknown[], string]> = [
    ['an unknown event type', [{ id: eid(), type: 'teleport' }], 'invalid_event'],
    ['a URL that is not one', [{ id: eid(), type: 'page_visit', url: 'not a url' }], 'invalid_event'],
    ['a javascript: URL', [{ id: eid(), type: 'page_visit', url: 'javascript:alert(1)' }], 'invalid_event'],
    ['a 10,000-character title', [{ id: eid(), type: 'page_visit', url: `${ORIGIN}/`, title: 'x'.repeat(10_000) }], 'invalid_event'],
    ['an event without an id', [{ type: 'page_visit', url: `${ORIGIN}/` }], 'invalid_event'],
    ['a purchase without an amount', [{ id: eid(), type: 'purchase' }], 'invalid_event'],
    ['an email that is not one', [{ id: eid(), type: 'identify', email: 'nope' }], 'invalid_event'],
    ['a field the site does not let a browser set', [{ id: eid(), type: 'identify', fields: { lastName: 'X' } }], 'field_not_allowed'],
    ['a field value of the wrong type', [{ id: eid(), type: 'identify', fields: { birthDate: 'yesterday' } }], 'invalid_event'],
    ['a good event followed by a bad one, applying neither', [pageVisit(), { id: eid(), type: 'page_visit', url: 'ftp://x' }], 'invalid_event'],
  ]
  it.each(batches)('%s with 400', async (_name, events, code) => {
    await refused(await edge.send({ site: KEY, events }), 400, code)
  })

  it('more than 50 events with 400', async () => {
    await refused(await edge.send({ site: KEY, events: Array.from({ length: 51 }, () => pageVisit()) }), 400)
  })

  it('malformed JSON with 400', async () => {
    const res = await edge.fetch('/v1/events', { method: 'POST', headers: { origin: ORIGIN }, body: '{"site": ' })
    await refused(res, 400, 'invalid_json')
  })

  it('a body over 64 KB with 413', async () => {
    const res = await edge.fetch('/v1/events', { method: 'POST', headers: { origin: ORIGIN }, body: JSON.stringify({ site: KEY, events: [pageVisit()], pad: 'x'.repeat(70_000) }) })
    await refused(res, 413, 'payload_too_large')
  })

  it('bytes that are not UTF-8 with 400', async () => {
    const body = new Uint8Array([...new TextEncoder().encode(`{"site":"${KEY}","events":[{"id":"a","type":"page_visit","url":"${ORIGIN}/`), 0xff, 0xfe, ...new TextEncoder().encode('"}]}')])
    await refused(await edge.fetch('/v1/events', { method: 'POST', headers: { origin: ORIGIN }, body }), 400, 'invalid_encoding')
  })

  it('unknown properties in the envelope with 400', async () => {
    await refused(await edge.send({ site: KEY, events: [pageVisit()], segments: ['seg_vip'] }), 400)
  })
})

describe('POST /v1/events accepts', () => {
  it('a text/plain body from an allowed origin, and says so with CORS headers', async () => {
    const res = await edge.send({ site: KEY, events: [pageVisit()] })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    edge.queue.splice(0)
  })

  it('an application/json body after a preflight', async () => {
    const preflight = await edge.fetch('/v1/events', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type')
    const res = await edge.fetch('/v1/events', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify({ site: KEY, events: [pageVisit()] }) })
    expect(res.status).toBe(200)
    edge.queue.splice(0)
  })

  it('a request without an Origin (a server, not a browser)', async () => {
    const res = await edge.send({ site: KEY, events: [pageVisit()] }, { origin: null })
    expect(res.status).toBe(200)
    edge.queue.splice(0)
  })

  it('content events, stored as the contact\'s activities', async () => {
    const first = await edge.events({ site: KEY, events: [pageVisit()] })
    const shown = first.content[0].id
    await edge.events({ site: KEY, contact: first.contact, state: first.state, events: ['shown', 'clicked', 'closed'].map((action) => ({ id: eid(), type: 'content', content: shown, action })) })
    await edge.flush()
    const rows = await env.DB.prepare("SELECT name FROM events WHERE site_id = 'inputshop' AND contact_id = ?1 AND type = 'content' ORDER BY name").bind(await edge.contactOf('inputshop', first)).all<{ name: string }>()
    expect(rows.results.map((r) => r.name)).toEqual(['clicked', 'closed', 'shown'])
  })
})
