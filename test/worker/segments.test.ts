/**
 * The admin API's segments, as an admin sees them through /api/v1: dynamic segments backfilled and kept
 * in step, cycles and unfit operators refused, static segments, listing, previews that write nothing,
 * and the explanation of a contact's membership.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { api } from './fixtures'

const S = '/sites/store'
type Json = Record<string, any>
const json = async (res: Response) => (await res.json()) as Json
const millennials = { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }
const day = 86_400_000

beforeAll(async () => {
  await api('POST', '/sites', { id: 'store', name: 'Store' })
  await api('POST', `${S}/contacts/batch`, {
    contacts: [
      { id: 'ana', email: 'ana@example.com', fields: { firstName: 'Ana', birthDate: '1990-04-02', country: 'ES' } },
      { id: 'bob', email: 'bob@example.com', fields: { firstName: 'Bob', birthDate: '1970-09-15', country: 'GB' } },
      { id: 'chen', email: 'chen@example.com', fields: { firstName: 'Chen', birthDate: '1985-12-01', country: 'FR' } },
      { id: 'dee', fields: { firstName: 'Dee' } },
    ],
  })
  const recent = (id: string, url: string, daysAgo: number) => ({ id, type: 'page_visit', url, at: new Date(Date.now() - daysAgo * day).toISOString() })
  await api('POST', `${S}/contacts/ana/events`, { events: [recent('a1', '/rock/1', 1), recent('a2', '/rock/2', 2), recent('a3', '/rock/3', 3)] })
  await api('POST', `${S}/contacts/chen/events`, { events: [recent('c1', '/rock/1', 1), recent('c2', '/jazz/2', 2)] })
})

describe('dynamic segments', () => {
  it('fills a new dynamic segment with every contact that meets its conditions', async () => {
    const res = await api('POST', `${S}/segments`, { id: 'seg_millennials', name: 'Millennials', type: 'dynamic', conditions: millennials })
    expect(res.status).toBe(201)
    const body = await json(res)
    expect(body).toMatchObject({ members: 2, summary: 'born between 1981-01-01 and 1996-12-31', backfill: { added: 2, removed: 0 } })
    const members = await json(await api('GET', `${S}/segments/seg_millennials/contacts`))
    expect(members.items.map((c: Json) => c.id)).toEqual(['ana', 'chen'])
    expect(members.items[0]).toMatchObject({ source: 'rule' })
  })

  it('adds and removes members when its conditions change', async () => {
    await api('POST', `${S}/segments`, { id: 'seg_country', name: 'Spain', type: 'dynamic', conditions: { all: [{ field: 'country', op: 'eq', value: 'ES' }] } })
    const res = await api('PATCH', `${S}/segments/seg_country`, { name: 'France', conditions: { all: [{ field: 'country', op: 'eq', value: 'fr' }] } })
    expect(await json(res)).toMatchObject({ name: 'France', members: 1, backfill: { added: 1, removed: 1 } })
    const members = await json(await api('GET', `${S}/segments/seg_country/contacts`))
    expect(members.items.map((c: Json) => c.id)).toEqual(['chen'])
  })

  it('keeps segments that read another segment in step when that one changes', async () => {
    await api('POST', `${S}/segments`, { id: 'seg_base', name: 'Base', type: 'dynamic', conditions: { all: [{ field: 'country', op: 'eq', value: 'GB' }] } })
    await api('POST', `${S}/segments`, { id: 'seg_derived', name: 'Derived', type: 'dynamic', conditions: { all: [{ segment: 'seg_base', op: 'in' }] } })
    expect((await json(await api('GET', `${S}/segments/seg_derived`))).members).toBe(1)
    await api('PATCH', `${S}/segments/seg_base`, { conditions: { all: [{ field: 'country', op: 'in', value: ['ES', 'FR'] }] } })
    const derived = await json(await api('GET', `${S}/segments/seg_derived/contacts`))
    expect(derived.items.map((c: Json) => c.id)).toEqual(['ana', 'chen'])
  })

  it('counts activities: three rock pages in 30 days', async () => {
    const res = await api('POST', `${S}/segments`, {
      name: 'Rock fans',
      type: 'dynamic',
      conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] },
    })
    const body = await json(res)
    expect(body.summary).toBe('visited a URL containing /rock at least 3 times in the last 30 days')
    expect(body.members).toBe(1)
  })

  it('refuses a segment that reads itself, or a circle of segments', async () => {
    const self = await api('PATCH', `${S}/segments/seg_base`, { conditions: { all: [{ segment: 'seg_base', op: 'in' }] } })
    expect(self.status).toBe(400)
    expect((await json(self)).error.code).toBe('self_reference')
    const circle = await api('PATCH', `${S}/segments/seg_base`, { conditions: { all: [{ segment: 'seg_derived', op: 'notIn' }] } })
    expect(circle.status).toBe(400)
    expect((await json(circle)).error.message).toContain('Base → Derived → Base')
  })

  it('refuses a condition on a segment that does not exist', async () => {
    const res = await api('POST', `${S}/segments`, { name: 'Ghostly', type: 'dynamic', conditions: { all: [{ segment: 'seg_ghost', op: 'in' }] } })
    expect(res.status).toBe(400)
    expect((await json(res)).error.code).toBe('unknown_segment')
    expect((await api('GET', `${S}/segments?q=ghostly`)).ok && (await json(await api('GET', `${S}/segments?q=ghostly`))).items).toEqual([])
  })

  it('refuses operators that do not fit the field, naming the clause', async () => {
    const res = await api('POST', `${S}/segments`, { name: 'Odd', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'contains', value: '19' }] } })
    expect(res.status).toBe(400)
    expect((await json(res)).error.message).toMatch(/conditions\.all\[0\]: contains does not apply to birth date/)
  })

  it('cannot be deleted while another segment reads it', async () => {
    const res = await api('DELETE', `${S}/segments/seg_base`)
    expect(res.status).toBe(409)
    const body = await json(res)
    expect(body.error.message).toContain('Derived')
    expect(body.error.usedBy).toEqual([{ id: 'seg_derived', name: 'Derived' }])
    expect((await api('DELETE', `${S}/segments/seg_derived`)).status).toBe(204)
    expect((await api('DELETE', `${S}/segments/seg_base`)).status).toBe(204)
    expect((await api('GET', `${S}/segments/seg_base`)).status).toBe(404)
  })

  it('keeps its type', async () => {
    const res = await api('PATCH', `${S}/segments/seg_millennials`, { type: 'static' })
    expect(res.status).toBe(400)
  })
})

describe('static segments', () => {
  it('hold a name and description, and no conditions', async () => {
    const res = await api('POST', `${S}/segments`, { id: 'seg_vip', name: 'VIP', description: 'Hand-picked', type: 'static' })
    expect(await json(res)).toMatchObject({ type: 'static', conditions: null, members: 0 })
    expect((await api('POST', `${S}/segments`, { name: 'VIP2', type: 'static', conditions: millennials })).status).toBe(400)
    expect((await api('POST', `${S}/segments`, { name: 'NoConditions', type: 'dynamic' })).status).toBe(400)
  })

  it('refuse a second segment with the same name, whatever its case', async () => {
    const res = await api('POST', `${S}/segments`, { name: 'vip', type: 'static' })
    expect(res.status).toBe(409)
  })
})

describe('listing segments', () => {
  beforeAll(async () => {
    for (const name of ['Alpha', 'beta', 'Gamma', 'delta']) await api('POST', `${S}/segments`, { name: `List ${name}`, type: 'static' })
  })

  it('filters by type and by name, case-insensitively, with member counts', async () => {
    const dynamic = await json(await api('GET', `${S}/segments?type=dynamic`))
    expect(dynamic.items.every((s: Json) => s.type === 'dynamic')).toBe(true)
    expect(dynamic.items.find((s: Json) => s.id === 'seg_millennials').members).toBe(2)
    const found = await json(await api('GET', `${S}/segments?q=LIST%20B`))
    expect(found.items.map((s: Json) => s.name)).toEqual(['List beta'])
  })

  it('pages through segments in name order', async () => {
    const seen: string[] = []
    let cursor = ''
    do {
      const page = await json(await api('GET', `${S}/segments?q=list&limit=3${cursor ? `&cursor=${cursor}` : ''}`))
      seen.push(...page.items.map((s: Json) => s.name))
      cursor = page.nextCursor ?? ''
    } while (cursor)
    expect(seen).toEqual(['List Alpha', 'List beta', 'List delta', 'List Gamma'])
  })

  it('refuses a cursor it did not make', async () => {
    expect((await api('GET', `${S}/segments?cursor=bogus`)).status).toBe(400)
  })
})

describe('preview', () => {
  it('counts and samples the contacts unsaved conditions would hold, and summarizes them', async () => {
    const res = await api('POST', `${S}/segments/preview`, {
      conditions: { all: [millennials, { activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] },
    })
    const body = await json(res)
    expect(body.count).toBe(1)
    expect(body.sample.map((c: Json) => c.id)).toEqual(['ana'])
    expect(body.summary).toBe('born between 1981-01-01 and 1996-12-31 AND visited a URL containing /rock at least 3 times in the last 30 days')
  })

  it('writes nothing', async () => {
    const before = await json(await api('GET', `${S}/segments?limit=200`))
    await api('POST', `${S}/segments/preview`, { conditions: { all: [{ field: 'country', op: 'eq', value: 'ES' }] } })
    expect(await json(await api('GET', `${S}/segments?limit=200`))).toEqual(before)
  })
})

describe('explain', () => {
  it('says for each clause whether the contact meets it and the value compared', async () => {
    await api('POST', `${S}/segments`, {
      id: 'seg_young_rock',
      name: 'Young rock fans',
      type: 'dynamic',
      conditions: { all: [millennials.all[0], { activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] },
    })
    const chen = await json(await api('GET', `${S}/contacts/chen/segments/seg_young_rock/explain`))
    expect(chen).toMatchObject({ member: false, met: false })
    expect(chen.conditions.children.map((c: Json) => [c.met, c.actual, c.summary])).toEqual([
      [true, '1985-12-01', 'born between 1981-01-01 and 1996-12-31'],
      [false, 1, 'visited a URL containing /rock at least 3 times in the last 30 days'],
    ])
    const ana = await json(await api('GET', `${S}/contacts/ana/segments/seg_young_rock/explain`))
    expect(ana).toMatchObject({ member: true, met: true, source: 'rule' })
  })

  it('explains a static membership by its source', async () => {
    await api('PUT', `${S}/contacts/bob/segments/seg_vip`)
    const bob = await json(await api('GET', `${S}/contacts/bob/segments/seg_vip/explain`))
    expect(bob).toMatchObject({ member: true, source: 'manual', conditions: null })
  })

  it('answers 404 for a contact or segment that does not exist', async () => {
    expect((await api('GET', `${S}/contacts/ghost/segments/seg_vip/explain`)).status).toBe(404)
    expect((await api('GET', `${S}/contacts/ana/segments/seg_ghost/explain`)).status).toBe(404)
  })
})
