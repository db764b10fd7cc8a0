/**
 * What the admin API does with bad input: a 4xx with { error: { code, message } }, and nothing written.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, api } from './fixtures'

const S = '/sites/bad'
type Json = Record<string, any>

beforeAll(async () => {
  await api('POST', '/sites', { id: 'bad', name: 'Bad input' })
  await api('POST', `${S}/contacts`, { id: 'someone', fields: { birthDate: '1990-01-01' } })
  await api('POST', `${S}/segments`, { id: 'seg_static', name: 'Static', type: 'static' })
})

async function tableCounts() {
  const tables = ['sites', 'contacts', 'events', 'segments', 'segment_members', 'content', 'workflows']
  const rows = await env.DB.batch(tables.map((t) => env.DB.prepare(`SELECT count(*) AS n FROM ${t}`)))
  return Object.fromEntries(tables.map((t, i) => [t, (rows[i].results[0] as { n: number }).n]))
}

function nest(depth: number): unknown {
  let tree: unknown = { field: 'country', op: 'eq', value: 'ES' }
  for (let i = 0; i < depth; i++) tree = { all: [tree] }
  return tree
}

const clause = (c: Json) => ({ name: 'Refused', type: 'dynamic', conditions: { all: [c] } })

const refusals: Array<[string, string, string, unknown, number, string?]> = [
  ['malformed JSON', 'POST', `${S}/segments`, '{"name": "x", ', 400, 'invalid_json'],
  ['a JSON array where an object belongs', 'POST', `${S}/segments`, [], 400],
  ['an unknown operator', 'POST', `${S}/segments`, clause({ field: 'country', op: 'sortOf', value: 'ES' }), 400],
  ['a between with one bound', 'POST', `${S}/segments`, clause({ field: 'birthDate', op: 'between', value: ['1981-01-01'] }), 400],
  ['a duration like 30x', 'POST', `${S}/segments`, clause({ activity: 'page_visit', within: '30x' }), 400],
  ['a withinLast without a duration', 'POST', `${S}/segments`, clause({ field: 'createdAt', op: 'withinLast', value: 'lately' }), 400],
  ['a condition tree 100 levels deep', 'POST', `${S}/segments`, { name: 'Deep', type: 'dynamic', conditions: nest(100) }, 400],
  ['two measures on one activity', 'POST', `${S}/segments`, clause({ activity: 'purchase', count: { op: 'gte', value: 1 }, sum: { op: 'gte', value: 1 } }), 400],
  ['a sum of page visits', 'POST', `${S}/segments`, clause({ activity: 'page_visit', sum: { op: 'gte', value: 1 } }), 400],
  ['an unknown field', 'POST', `${S}/segments`, clause({ field: 'shoeSize', op: 'gt', value: 40 }), 400, 'invalid_conditions'],
  ['a misspelt key', 'POST', `${S}/segments`, clause({ field: 'country', opp: 'eq', value: 'ES' }), 400],
  ['a segment referring to itself', 'POST', `${S}/segments`, { id: 'seg_self', ...clause({ segment: 'seg_self', op: 'in' }) }, 400, 'self_reference'],
  ['a top level that is a clause, not a group', 'POST', `${S}/segments`, { name: 'Flat', type: 'dynamic', conditions: { field: 'country', op: 'eq', value: 'ES' } }, 400],
  ['an empty condition tree', 'POST', `${S}/segments`, { name: 'Empty', type: 'dynamic', conditions: { all: [] } }, 400],
  ['text holding a NUL character', 'POST', `${S}/contacts`, { id: 'nul', fields: { firstName: 'a\u0000b' } }, 400, 'invalid_text'],
  // JSON.stringify writes a lone surrogate as its escape (\ud800), as a client would send it.
  ['a lone surrogate in a contact field', 'POST', `${S}/contacts`, { id: 'lone', fields: { firstName: 'Ana\ud800' } }, 400, 'invalid_text'],
  ['a lone surrogate in a field name', 'POST', `${S}/contacts`, { id: 'lone', fields: { ['first\udc00Name']: 'Ana' } }, 400, 'invalid_text'],
  ['a lone surrogate in an update of a contact', 'PATCH', `${S}/contacts/someone`, { fields: { firstName: '\ud83d' } }, 400, 'invalid_text'],
  ['a lone low surrogate in a segment name', 'POST', `${S}/segments`, { name: '\ude00 VIP', type: 'static' }, 400, 'invalid_text'],
  ['a lone surrogate in a condition value', 'POST', `${S}/segments`, clause({ field: 'country', op: 'eq', value: 'E\ud800S' }), 400, 'invalid_text'],
  ['a lone surrogate in a content title', 'POST', `${S}/content`, { name: 'Promo', format: 'popup', title: 'Hello \ud800' }, 400, 'invalid_text'],
  ['a lone surrogate in a workflow name', 'POST', `${S}/workflows`, { name: 'Welcome \udbff', start: { trigger: { type: 'identify' } }, entry: 'a', nodes: { a: { type: 'addToSegment', segment: 'seg_static' } } }, 400, 'invalid_text'],
  ['a lone surrogate in an imported event', 'POST', `${S}/contacts/someone/events`, { events: [{ id: 'lone-1', type: 'page_visit', url: 'https://shop.example/', title: '\ud800' }] }, 400, 'invalid_text'],
  ['a lone surrogate in a site name', 'POST', '/sites', { name: 'Shop \ud800' }, 400, 'invalid_text'],
  ['a call to action whose host holds a space', 'POST', `${S}/content`, { name: 'Promo', format: 'popup', cta: { label: 'Go', url: 'http://a b.example/' } }, 400],
  ['an allowed origin whose host holds a space', 'PATCH', S, { allowedOrigins: ['https://shop .example'] }, 400],
  ['a contact id with spaces', 'POST', `${S}/contacts`, { id: 'has space' }, 400],
  ['an email that is not one', 'POST', `${S}/contacts`, { email: 'not-an-email' }, 400],
  ['a preview with an unknown operator', 'POST', `${S}/segments/preview`, { conditions: { all: [{ field: 'country', op: 'is', value: 'ES' }] } }, 400],
  ['an update of a segment that does not exist', 'PATCH', `${S}/segments/seg_nope`, { name: 'x' }, 404, 'segment_not_found'],
  ['an update of a contact that does not exist', 'PATCH', `${S}/contacts/nobody`, { fields: { firstName: 'x' } }, 404, 'contact_not_found'],
  ['a delete of a segment that does not exist', 'DELETE', `${S}/segments/seg_nope`, undefined, 404],
  ['members of a segment that does not exist', 'GET', `${S}/segments/seg_nope/contacts`, undefined, 404],
  ['the segments of a contact that does not exist', 'GET', `${S}/contacts/nobody/segments`, undefined, 404],
  ['a list with an unknown type', 'GET', `${S}/segments?type=weird`, undefined, 400],
  ['a list with a limit of zero', 'GET', `${S}/contacts?limit=0`, undefined, 400],
  ['a site with an unknown property', 'POST', '/sites', { name: 'x', colour: 'red' }, 400],
]

describe('bad input', () => {
  it.each(refusals)('refuses %s', async (_name, method, path, body, status, code) => {
    const before = await tableCounts()
    const res = await api(method, path, body)
    expect(res.status).toBe(status)
    const err = (await res.json<Json>()).error
    expect(typeof err.code).toBe('string')
    expect(err.message.length).toBeGreaterThan(5)
    if (code) expect(err.code).toBe(code)
    expect(await tableCounts()).toEqual(before)
  })

  it('refuses a surrogate written as UTF-8 bytes (not UTF-8) with 400, rather than storing U+FFFD', async () => {
    const before = await tableCounts()
    const { exports } = await import('cloudflare:workers')
    const enc = new TextEncoder()
    const body = new Uint8Array([...enc.encode('{"id":"bytes","fields":{"firstName":"Ana'), 0xed, 0xa0, 0x80, ...enc.encode('"}}')])
    const res = await exports.default.fetch(`http://segue.test/api/v1${S}/contacts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body })
    expect(res.status).toBe(400)
    expect((await res.json<Json>()).error.code).toBe('invalid_encoding')
    expect(await tableCounts()).toEqual(before)
  })

  it('keeps text holding surrogate pairs (emoji) exactly as sent, escaped or not', async () => {
    const res = await api('POST', `${S}/contacts`, '{"id":"emoji","fields":{"firstName":"Ana \\ud83d\\ude00 😀"}}')
    expect(res.status).toBe(201)
    expect((await res.json<Json>()).fields.firstName).toBe('Ana 😀 😀')
  })

  it('refuses a 10 MB body with 413 before reading it', async () => {
    const before = await tableCounts()
    const huge = JSON.stringify({ contacts: [{ id: 'big', fields: { firstName: 'x'.repeat(10 * 1024 * 1024) } }] })
    const res = await api('POST', `${S}/contacts/batch`, huge)
    expect(res.status).toBe(413)
    expect((await res.json<Json>()).error.code).toBe('payload_too_large')
    expect(await tableCounts()).toEqual(before)
  })

  it('says where a problem is and what is wrong', async () => {
    const res = await api('POST', `${S}/segments`, clause({ field: 'birthDate', op: 'between', value: ['1981-01-01'] }))
    expect((await res.json<Json>()).error.message).toContain('between needs two bounds')
  })

  it('answers 404 with the error shape for paths that do not exist', async () => {
    const res = await api('GET', '/nowhere')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
  })
})
