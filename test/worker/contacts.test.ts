/**
 * The admin API's contacts, as an admin sees them through /api/v1: fields checked against the site's,
 * dynamic memberships that follow them, search, deletion, batch upsert, imported activities, static
 * memberships by hand, and a batch of 1,000 wide rows close to 2 MB.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { api } from './fixtures'

const S = '/sites/shop'
type Json = Record<string, any>
const json = async (res: Response) => (await res.json()) as Json

beforeAll(async () => {
  await api('POST', '/sites', { id: 'shop', name: 'Shop', fields: [{ key: 'plan', type: 'string' }, { key: 'seats', type: 'number' }, { key: 'renewal', type: 'date' }] })
  await api('POST', `${S}/segments`, { id: 'seg_millennials', name: 'Millennials', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] } })
  await api('POST', `${S}/segments`, { id: 'seg_rock', name: 'Rock fans', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] } })
  await api('POST', `${S}/segments`, { id: 'seg_vip', name: 'VIP', type: 'static' })
})

const segmentIds = async (id: string) => ((await json(await api('GET', `${S}/contacts/${id}/segments`))).items as Json[]).map((s) => s.id).sort()

describe('contacts', () => {
  it('creates a contact with an email, system and custom fields, and reads it back', async () => {
    const res = await api('POST', `${S}/contacts`, { id: 'ana', email: ' Ana@Example.COM ', fields: { firstName: 'Ana', birthDate: '1990-04-02', plan: 'pro', seats: 3 } })
    expect(res.status).toBe(201)
    const got = await json(await api('GET', `${S}/contacts/ana`))
    expect(got).toMatchObject({ id: 'ana', email: 'ana@example.com', fields: { firstName: 'Ana', birthDate: '1990-04-02', plan: 'pro', seats: 3 } })
    expect(got.segments.map((s: Json) => s.id)).toEqual(['seg_millennials'])
  })

  it('assigns an id when none is given', async () => {
    const created = await json(await api('POST', `${S}/contacts`, { email: 'noid@example.com' }))
    expect(created.id).toMatch(/^c_[a-z0-9]{16}$/)
  })

  it('moves a contact in and out of a dynamic segment as its birth date changes', async () => {
    await api('POST', `${S}/contacts`, { id: 'mover', fields: { birthDate: '1970-01-01' } })
    expect(await segmentIds('mover')).toEqual([])
    const patched = await json(await api('PATCH', `${S}/contacts/mover`, { fields: { birthDate: '1988-05-05' } }))
    expect(patched.segments.map((s: Json) => s.id)).toEqual(['seg_millennials'])
    await api('PATCH', `${S}/contacts/mover`, { fields: { birthDate: null } })
    expect(await segmentIds('mover')).toEqual([])
  })

  it('changes only the fields a patch names, and clears with null or an empty string', async () => {
    await api('POST', `${S}/contacts`, { id: 'partial', fields: { firstName: 'Pat', lastName: 'Lee', plan: 'free', seats: 2 } })
    const after = await json(await api('PATCH', `${S}/contacts/partial`, { fields: { lastName: '', plan: null, seats: 5 } }))
    expect(after.fields).toEqual({ firstName: 'Pat', seats: 5 })
  })

  it('refuses field values of the wrong type, unknown fields and read-only fields, writing nothing', async () => {
    await api('POST', `${S}/contacts`, { id: 'strict', fields: { seats: 1 } })
    for (const fields of [{ seats: 'many' }, { birthDate: '1990-02-30' }, { shoeSize: 42 }, { createdAt: 1 }, { newsletter: 'maybe' }, { email: 'x@y.z' }]) {
      const res = await api('PATCH', `${S}/contacts/strict`, { fields })
      expect(res.status, JSON.stringify(fields)).toBe(400)
      expect(await json(res)).toMatchObject({ error: { code: 'invalid_field' } })
    }
    expect((await json(await api('GET', `${S}/contacts/strict`))).fields).toEqual({ seats: 1 })
  })

  it('names the field at fault and each issue in a refusal, for any client to place', async () => {
    const res = await api('PATCH', `${S}/contacts/strict`, { fields: { birthDate: '1990-02-30', seats: 'many' } })
    expect(res.status).toBe(400)
    const body = await json(res)
    expect(body.error).toMatchObject({
      code: 'invalid_field',
      field: 'fields.birthDate',
      issues: [{ path: 'fields.birthDate', message: 'must be a date written YYYY-MM-DD' }, { path: 'fields.seats', message: 'must be a number' }],
    })
    const taken = await json(await api('POST', `${S}/contacts`, { id: 'strict' }))
    expect(taken.error).toMatchObject({ code: 'contact_exists', field: 'id' })
  })

  it('refuses a second contact with the same email or id', async () => {
    await api('POST', `${S}/contacts`, { id: 'first', email: 'taken@example.com' })
    expect((await api('POST', `${S}/contacts`, { id: 'second', email: 'TAKEN@example.com' })).status).toBe(409)
    expect((await api('POST', `${S}/contacts`, { id: 'first' })).status).toBe(409)
    expect((await api('PATCH', `${S}/contacts/ana`, { email: 'taken@example.com' })).status).toBe(409)
  })

  it('searches by email and by name, newest first, a page at a time', async () => {
    for (const [id, first, last] of [['s1', 'Zelda', 'Quist'], ['s2', 'Zack', 'Quist'], ['s3', 'Mia', 'Zorro']]) {
      await api('POST', `${S}/contacts`, { id, email: `${id}@search.example`, fields: { firstName: first, lastName: last } })
    }
    const byName = await json(await api('GET', `${S}/contacts?q=quist`))
    expect(byName.items.map((c: Json) => c.id).sort()).toEqual(['s1', 's2'])
    const byEmail = await json(await api('GET', `${S}/contacts?q=s3@search`))
    expect(byEmail.items.map((c: Json) => c.id)).toEqual(['s3'])
    const byFullName = await json(await api('GET', `${S}/contacts?q=zack%20quist`))
    expect(byFullName.items.map((c: Json) => c.id)).toEqual(['s2'])
    const page1 = await json(await api('GET', `${S}/contacts?q=search.example&limit=2`))
    expect(page1.items).toHaveLength(2)
    const page2 = await json(await api('GET', `${S}/contacts?q=search.example&limit=2&cursor=${page1.nextCursor}`))
    expect(page2.items).toHaveLength(1)
    expect(page2.nextCursor).toBeNull()
    expect(new Set([...page1.items, ...page2.items].map((c: Json) => c.id))).toEqual(new Set(['s1', 's2', 's3']))
  })

  it('deletes a contact with its activities and memberships', async () => {
    await api('POST', `${S}/contacts`, { id: 'gone', fields: { birthDate: '1990-01-01' } })
    expect((await api('DELETE', `${S}/contacts/gone`)).status).toBe(204)
    expect((await api('GET', `${S}/contacts/gone`)).status).toBe(404)
    const members = await json(await api('GET', `${S}/segments/seg_millennials/contacts?limit=200`))
    expect(members.items.map((c: Json) => c.id)).not.toContain('gone')
    expect((await api('DELETE', `${S}/contacts/gone`)).status).toBe(404)
  })
})

describe('batch upsert', () => {
  it('creates and updates up to 1,000 contacts in one request, matching by id, external id or email', async () => {
    await api('POST', `${S}/contacts`, { id: 'known', email: 'known@example.com', externalId: 'crm-1' })
    const rows = Array.from({ length: 998 }, (_, i) => ({ email: `bulk${i}@example.com`, fields: { birthDate: i % 2 ? '1990-01-01' : '1960-01-01' } }))
    rows.push({ externalId: 'crm-1', fields: { firstName: 'Known' } } as never, { email: 'KNOWN@example.com', fields: { lastName: 'Person' } } as never)
    const res = await api('POST', `${S}/contacts/batch`, { contacts: rows.slice(0, 999) })
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body).toMatchObject({ created: 998, updated: 1 })
    expect((await json(await api('GET', `${S}/contacts/known`))).fields).toEqual({ firstName: 'Known' })
    const millennials = await json(await api('GET', `${S}/segments/seg_millennials`))
    expect(millennials.members).toBeGreaterThanOrEqual(499)
  })

  it('writes nothing when any row is refused, and reports every refused row', async () => {
    const res = await api('POST', `${S}/contacts/batch`, {
      contacts: [
        { id: 'ok-1', fields: { firstName: 'Fine' } },
        { id: 'bad id!' },
        { id: 'ok-2', fields: { seats: 'two' } },
        { id: 'ok-1' },
      ],
    })
    expect(res.status).toBe(400)
    const body = await json(res)
    expect(body.error.code).toBe('invalid_rows')
    expect(body.error.rows.map((r: Json) => [r.index, r.code])).toEqual([[1, 'invalid_contact'], [2, 'invalid_field'], [3, 'duplicate_row']])
    expect(body.error.rows[1]).toEqual({ index: 2, code: 'invalid_field', message: expect.stringContaining('seats'), field: 'fields.seats', issues: [{ path: 'fields.seats', message: expect.any(String) }] })
    expect((await api('GET', `${S}/contacts/ok-1`)).status).toBe(404)
  })

  it('refuses more than 1,000 rows with 413', async () => {
    const res = await api('POST', `${S}/contacts/batch`, { contacts: Array.from({ length: 1001 }, (_, i) => ({ id: `x${i}` })) })
    expect(res.status).toBe(413)
  })
})

describe('importing past activities', () => {
  const visits = (prefix: string, n: number, daysAgo = 1) =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, type: 'page_visit', url: `https://shop.example/rock/${i}`, at: new Date(Date.now() - daysAgo * 86_400_000).toISOString() }))

  it('counts imported visits toward activity conditions at once', async () => {
    await api('POST', `${S}/contacts`, { id: 'listener' })
    const first = await json(await api('POST', `${S}/contacts/listener/events`, { events: visits('v', 2) }))
    expect(first).toEqual({ received: 2, stored: 2, duplicates: 0 })
    expect(await segmentIds('listener')).toEqual([])
    await api('POST', `${S}/contacts/listener/events`, { events: visits('w', 1) })
    expect(await segmentIds('listener')).toEqual(['seg_rock'])
  })

  it('ignores activities it already has, so repeating an import is harmless', async () => {
    await api('POST', `${S}/contacts`, { id: 'repeat' })
    await api('POST', `${S}/contacts/repeat/events`, { events: visits('r', 2) })
    const again = await json(await api('POST', `${S}/contacts/repeat/events`, { events: visits('r', 2) }))
    expect(again).toEqual({ received: 2, stored: 0, duplicates: 2 })
    expect(await segmentIds('repeat')).toEqual([])
    const timeline = await json(await api('GET', `${S}/contacts/repeat/events`))
    expect(timeline.items).toHaveLength(2)
  })

  it('does not count visits older than the window', async () => {
    await api('POST', `${S}/contacts`, { id: 'lapsed' })
    await api('POST', `${S}/contacts/lapsed/events`, { events: visits('old', 5, 45) })
    expect(await segmentIds('lapsed')).toEqual([])
  })

  it('shows the timeline newest first with amounts in currency units', async () => {
    await api('POST', `${S}/contacts`, { id: 'buyer' })
    await api('POST', `${S}/contacts/buyer/events`, {
      events: [
        { id: 'p1', type: 'purchase', amount: 19.99, currency: 'EUR', orderId: 'o-1', at: '2026-01-01T10:00:00Z' },
        { id: 'p2', type: 'custom', name: 'wishlist', props: { album: 'Blue' }, at: '2026-02-01T10:00:00Z' },
      ],
    })
    const timeline = await json(await api('GET', `${S}/contacts/buyer/events`))
    expect(timeline.items).toEqual([
      { id: 'p2', type: 'custom', name: 'wishlist', props: { album: 'Blue' }, at: '2026-02-01T10:00:00.000Z' },
      { id: 'p1', type: 'purchase', orderId: 'o-1', currency: 'EUR', amount: 19.99, at: '2026-01-01T10:00:00.000Z' },
    ])
    expect((await json(await api('GET', `${S}/contacts/buyer`))).lastSeenAt).toBe('2026-02-01T10:00:00.000Z')
  })

  it('refuses the whole import if one event is malformed or in the future', async () => {
    await api('POST', `${S}/contacts`, { id: 'careful' })
    const res = await api('POST', `${S}/contacts/careful/events`, {
      events: [...visits('c', 1), { id: 'f', type: 'page_visit', url: '/', at: '2999-01-01T00:00:00Z' }, { id: 'g', type: 'teleport' }],
    })
    expect(res.status).toBe(400)
    expect((await json(res)).error.events.map((e: Json) => e.index)).toEqual([1, 2])
    expect((await json(await api('GET', `${S}/contacts/careful/events`))).items).toEqual([])
  })

  it('answers 404 for a contact that does not exist', async () => {
    expect((await api('POST', `${S}/contacts/ghost/events`, { events: visits('z', 1) })).status).toBe(404)
  })
})

describe('static membership by hand', () => {
  it('adds a contact to a static segment and removes it', async () => {
    await api('POST', `${S}/contacts`, { id: 'vip-to-be' })
    const added = await json(await api('PUT', `${S}/contacts/vip-to-be/segments/seg_vip`))
    expect(added.items).toMatchObject([{ id: 'seg_vip', type: 'static', source: 'manual' }])
    const again = await api('PUT', `${S}/contacts/vip-to-be/segments/seg_vip`)
    expect(again.status).toBe(200)
    const removed = await json(await api('DELETE', `${S}/contacts/vip-to-be/segments/seg_vip`))
    expect(removed.items).toEqual([])
  })

  it('refuses to add a contact to a dynamic segment by hand, saying why', async () => {
    await api('POST', `${S}/contacts`, { id: 'eager' })
    const res = await api('PUT', `${S}/contacts/eager/segments/seg_millennials`)
    expect(res.status).toBe(409)
    const body = await json(res)
    expect(body.error.code).toBe('segment_is_dynamic')
    expect(body.error.message).toMatch(/dynamic segment.*conditions/)
    expect((await api('DELETE', `${S}/contacts/ana/segments/seg_millennials`)).status).toBe(409)
    expect(await segmentIds('ana')).toEqual(['seg_millennials'])
  })

  it('answers 404 for a contact or segment that does not exist', async () => {
    expect((await api('PUT', `${S}/contacts/ghost/segments/seg_vip`)).status).toBe(404)
    expect((await api('PUT', `${S}/contacts/ana/segments/seg_ghost`)).status).toBe(404)
  })
})

describe('large requests', () => {
  it('stores a batch of 1,000 contacts with long text fields (close to 2 MB)', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: `wide-${i}`, fields: { firstName: 'F'.repeat(600), lastName: 'L'.repeat(600), city: 'C'.repeat(600) } }))
    const res = await api('POST', `${S}/contacts/batch`, { contacts: rows })
    expect(res.status).toBe(200)
    expect((await json(await api('GET', `${S}/contacts/wide-999`))).fields.city).toHaveLength(600)
  })
})
