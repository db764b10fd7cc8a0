/**
 * What POST /v1/events does with bad input and foreign origins: a 4xx with the error shape, nothing
 * queued (so nothing written), and no event of a refused batch applied.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'
import { rowsOf } from './fixtures'

const edge = new Edge()
const KEY = 'pk_inputshop_test'

beforeAll(async () => {
  await edge.seedDemo('inputshop', KEY)
})

// A test that fails after its batch was accepted must not leave messages that fail the next one.
beforeEach(() => void edge.queue.splice(0))

async function refused(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status)
  const body = await res.json<{ error: { code: string; message: string } }>()
  expect(body.error.message.length).toBeGreaterThan(5)
  if (code) expect(body.error.code).toBe(code)
  // Compared as JSON, which escapes lone surrogates: a failure's diff must not break the runner's UTF-8 channel.
  expect(edge.queue.map((m) => JSON.stringify(m))).toEqual([])
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
    ['a URL whose host holds a space', [{ id: eid(), type: 'page_visit', url: 'http://shop .example/' }], 'invalid_event'],
    ['a referrer whose host holds a space', [{ id: eid(), type: 'page_visit', url: `${ORIGIN}/`, referrer: 'https://search .example/' }], 'invalid_event'],
    // JSON.stringify writes a lone surrogate as its escape (\ud800), as a client would send it.
    ['a lone surrogate in a title', [{ id: eid(), type: 'page_visit', url: `${ORIGIN}/`, title: 'Shop \ud800' }], 'invalid_text'],
    ['a lone surrogate in a custom event property', [{ id: eid(), type: 'custom', name: 'signup', props: { plan: '\udfff' } }], 'invalid_text'],
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

  it('page addresses, stored as the URL parser writes them', async () => {
    const answer = await edge.events({ site: KEY, events: [{ id: eid(), type: 'page_visit', url: 'HTTP://Shop.Example:443/a/../b?x#frag', referrer: ' https://Search.Example/q?s=a b' }] })
    await edge.flush()
    const contact = await edge.contactOf('inputshop', answer)
    const rows = await rowsOf<{ url: string; referrer: string }>('inputshop', "SELECT url, referrer FROM events WHERE site_id = 'inputshop' AND contact_id = ?1 AND type = 'page_visit'", contact)
    expect(rows).toEqual([{ url: 'http://shop.example:443/b?x#frag', referrer: 'https://search.example/q?s=a%20b' }])
    const listed = await edge.admin('GET', `/sites/inputshop/contacts/${contact}/events`)
    expect(listed.body.items[0]).toMatchObject({ url: 'http://shop.example:443/b?x#frag' })
  })

  it('events from an origin the site wrote with capitals, a default port and a slash', async () => {
    await edge.admin('POST', '/sites', { id: 'caps', key: 'pk_caps_test_key', name: 'Caps', allowedOrigins: ['HTTPS://Shop.Example:443/'] })
    expect((await edge.admin('GET', '/sites/caps')).body.allowedOrigins).toEqual([ORIGIN])
    expect((await edge.send({ site: 'pk_caps_test_key', events: [pageVisit()] })).status).toBe(200)
    edge.queue.splice(0)
  })

  it('content events, stored as the contact\'s activities', async () => {
    const first = await edge.events({ site: KEY, events: [pageVisit()] })
    const shown = first.content[0].id
    await edge.events({ site: KEY, contact: first.contact, state: first.state, events: ['shown', 'clicked', 'closed'].map((action) => ({ id: eid(), type: 'content', content: shown, action })) })
    await edge.flush()
    const rows = await rowsOf<{ name: string }>('inputshop', "SELECT name FROM events WHERE site_id = 'inputshop' AND contact_id = ?1 AND type = 'content' ORDER BY name", await edge.contactOf('inputshop', first))
    expect(rows.map((r) => r.name)).toEqual(['clicked', 'closed', 'shown'])
  })
})
