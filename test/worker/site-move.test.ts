/**
 * Moving a site to other shards: everything about its contacts arrives once, the visits sent while it
 * moves are written after it has arrived, the old shards keep nothing of it, the console shows where it
 * is; a move that spreads a site or gathers it back, one out of the control database, one called off;
 * and what is refused meanwhile.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { type QueueMessage } from '../../worker/background/messages'
import { MOVE_PAGE, moveStep } from '../../worker/background/move'
import { type VisitMessage } from '../../worker/background/messages'
import { buildSiteConfig } from '../../worker/background/publish'
import { writeVisits } from '../../worker/background/write-visits'
import { compileSite } from '../../worker/visits/compile'
import { database, shardIndex, siteData } from '../../worker/data/shards'
import { setPlacement, siteOnShard } from '../../worker/data/sites'
import { signIdentity } from '../../worker/visits/identity'
import { Edge, type EventsAnswer, ORIGIN, eid, pageVisit } from './edge-harness'

const edge = new Edge()
const SITE = 'mover'
const KEY = 'pk_mover_test'
let secret: string

type Json = Record<string, any>

/** What a move carries, by table, with the column each is keyed by. */
const SITE_TABLES = [
  ['contacts', 'id'],
  ['events', 'id'],
  ['segment_members', 'contact_id'],
  ['workflow_counters', 'contact_id'],
  ['contact_identities', 'contact_id'],
  ['contact_aliases', 'alias_id'],
  ['erased_contacts', 'contact_id'],
  ['processed_messages', 'id'],
] as const

const db = (name: string) => database(env, name)

async function column(name: string, sql: string, ...binds: unknown[]): Promise<string[]> {
  const { results } = await db(name).prepare(sql).bind(...binds).all<Record<string, unknown>>()
  return results.map((r) => String(Object.values(r)[0]))
}

/** Every row of a site a shard holds, table by table, as sorted text (a row's columns joined). */
async function rowsOn(name: string, siteId: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const [table] of SITE_TABLES) {
    const { results } = await db(name).prepare(`SELECT * FROM ${table} WHERE site_id = ?1`).bind(siteId).all<Record<string, unknown>>()
    out[table] = results.map((r) => JSON.stringify(Object.keys(r).sort().map((k) => r[k]))).sort()
  }
  return out
}

/** The same rows gathered from several shards. */
async function rowsAcross(names: readonly string[], siteId: string): Promise<Record<string, string[]>> {
  const all = await Promise.all(names.map((n) => rowsOn(n, siteId)))
  return Object.fromEntries(SITE_TABLES.map(([table]) => [table, all.flatMap((r) => r[table]).sort()]))
}

const countOn = async (name: string, table: string, siteId: string) =>
  (await db(name).prepare(`SELECT count(*) AS n FROM ${table} WHERE site_id = ?1`).bind(siteId).first<{ n: number }>())!.n

/** Hands the queue to the consumer until it is empty (visits of a moving site come back on it). */
async function drain(rounds = 200): Promise<number> {
  let n = 0
  for (; n < rounds && edge.queue.length > 0; n++) await edge.flush()
  expect(edge.queue).toHaveLength(0)
  return n
}

const idOf = (a: EventsAnswer, site = SITE) => edge.contactOf(site, a)

/** A site made through the API, then placed where a test wants it (before it holds anything). */
async function siteOn(id: string, key: string, shards: string[]): Promise<string> {
  const made = await edge.admin<Json>('POST', '/sites', { id, key, name: id, allowedOrigins: [ORIGIN] })
  expect(made.status).toBe(201)
  await Promise.all(shards.filter((s) => s !== 'DB').map((s) => siteOnShard(db(s), id, Date.now()).run()))
  await setPlacement(env.DB, id, shards, null).run()
  return made.body.identitySecret.value
}

async function consolePage(path: string): Promise<string> {
  const res = await edge.fetch(path, { headers: { cookie: await edge.consoleCookie() } })
  expect(res.status).toBe(200)
  return res.text()
}

beforeAll(async () => {
  secret = await siteOn(SITE, KEY, ['SHARD_1'])
})

describe('moving a site to another shard', () => {
  let before: Record<string, string[]>
  let beforeIds: string[]
  let beforeEvents: string[]
  let kimBrowser: EventsAnswer
  let visitor: EventsAnswer
  const meanwhile: string[] = []

  it('starts from a site on SHARD_1 with contacts, activities, memberships, an alias and an erasure', async () => {
    const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).toBeLessThan(300)
    ok(await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_vip', name: 'VIP', type: 'static' }))
    ok(await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_bulk', name: 'Bulk', type: 'dynamic', conditions: { all: [{ field: 'firstName', op: 'eq', value: 'Bulk' }] } }))
    // More contacts than two pages of a move.
    const bulk = Array.from({ length: 2 * MOVE_PAGE + 50 }, (_, i) => ({ id: `bulk-${String(i).padStart(3, '0')}`, email: `bulk-${i}@example.com`, fields: { firstName: 'Bulk' } }))
    ok(await edge.admin('POST', `/sites/${SITE}/contacts/batch`, { contacts: [...bulk, { id: 'kim', email: 'kim@example.com', fields: { firstName: 'Kim' } }] }))
    ok(await edge.admin('POST', `/sites/${SITE}/contacts/bulk-001/events`, { events: [{ id: 'imported-1', type: 'purchase', at: new Date().toISOString(), amount: 12, currency: 'EUR' }] }))
    ok(await edge.admin('DELETE', `/sites/${SITE}/contacts/bulk-007`))

    visitor = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/first`)] })
    visitor = await edge.events({ site: KEY, contact: visitor.contact, state: visitor.state, events: [pageVisit(`${ORIGIN}/second`)] })
    // An anonymous visitor who signs in as Kim: merged into her, its id an alias of hers.
    const anonymous = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/browse`)] })
    await drain()
    const signature = await signIdentity(secret, { kind: 'email', value: 'kim@example.com' }, Date.now())
    kimBrowser = await edge.events({ site: KEY, contact: anonymous.contact, state: anonymous.state, events: [{ id: eid(), type: 'identify', email: 'kim@example.com', signature }] })
    expect(await idOf(kimBrowser)).toBe('kim')
    await drain()
    ok(await edge.admin('PUT', `/sites/${SITE}/contacts/${await idOf(visitor)}/segments/seg_vip`))
    await drain()

    before = await rowsOn('SHARD_1', SITE)
    beforeIds = await column('SHARD_1', 'SELECT id FROM contacts WHERE site_id = ?1', SITE)
    beforeEvents = await column('SHARD_1', 'SELECT id FROM events WHERE site_id = ?1', SITE)
    expect(before.contacts.length).toBe(bulk.length + 1 - 1 + 1) // the bulk, Kim, the visitor; one erased
    expect(before.contact_aliases).toHaveLength(1)
    expect(before.erased_contacts.length).toBeGreaterThan(0)
    expect(before.processed_messages.length).toBeGreaterThan(0)
    expect(before.segment_members.length).toBeGreaterThan(2 * MOVE_PAGE)
    expect(before.events.length).toBeGreaterThan(3)
    expect(Object.values(await rowsOn('SHARD_2', SITE)).flat()).toEqual([])
  })

  it('is marked as moving at once, and refuses changes to its contacts and segments meanwhile', async () => {
    const started = await edge.admin<Json>('POST', `/sites/${SITE}/move`, { shards: ['SHARD_2'] })
    expect(started.status, JSON.stringify(started.body)).toBe(202)
    expect(started.body).toMatchObject({ shards: ['SHARD_1'], movingTo: ['SHARD_2'] })
    expect((await edge.admin<Json>('GET', `/sites/${SITE}`)).body).toMatchObject({ shards: ['SHARD_1'], movingTo: ['SHARD_2'] })
    expect(edge.queue.filter((m) => m.kind === 'move')).toHaveLength(1)

    const again = await edge.admin<Json>('POST', `/sites/${SITE}/move`, { shards: ['SHARD_1'] })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('site_moving')
    for (const [method, path, body] of [
      ['POST', '/contacts', { id: 'late', email: 'late@example.com' }],
      ['POST', '/contacts/batch', { contacts: [{ id: 'late' }] }],
      ['PATCH', '/contacts/kim', { fields: { firstName: 'Kimberly' } }],
      ['DELETE', '/contacts/kim', undefined],
      ['PUT', '/contacts/kim/segments/seg_vip', undefined],
      ['POST', '/segments', { name: 'Late', type: 'static' }],
      ['PATCH', '/segments/seg_bulk', { name: 'Bulk 2' }],
      ['DELETE', '/segments/seg_vip', undefined],
    ] as const) {
      const refused = await edge.admin<Json>(method, `/sites/${SITE}${path}`, body)
      expect(refused.status, `${method} ${path}`).toBe(409)
      expect(refused.body.error).toMatchObject({ code: 'site_moving', message: expect.stringContaining('SHARD_2') })
    }
    // Reads go on, from where the site still is.
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/contacts/kim`)).body.email).toBe('kim@example.com')
    expect((await edge.admin<Json>('POST', `/sites/${SITE}/segments/preview`, { conditions: { all: [{ field: 'firstName', op: 'eq', value: 'Bulk' }] } })).status).toBe(200)

    const page = await consolePage(`/admin/sites/${SITE}`)
    expect(page).toContain('Data shards')
    expect(page).toMatch(/moving to SHARD_2/)
    // The console's forms are refused as the API is, with a page that says why.
    const cookie = await edge.consoleCookie()
    const overview = await (await edge.fetch(`/admin/sites/${SITE}`, { headers: { cookie } })).text()
    const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(overview)![1]
    for (const path of ['/contacts/kim/edit', '/segments/seg_bulk/edit', '/contacts/kim/segments']) {
      const body = new URLSearchParams({ _csrf: csrf, firstName: 'Kimberly' }).toString()
      const form = await edge.fetch(`/admin/sites/${SITE}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body })
      expect(form.status, path).toBe(409)
      expect(await form.text()).toContain('is moving to SHARD_2')
    }
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/contacts/kim`)).body.fields.firstName).not.toBe('Kimberly')
  })

  it('writes the visits sent while it moves after it has arrived, losing and doubling nothing', async () => {
    const send = async (answer: EventsAnswer | undefined, url: string) => {
      const event = pageVisit(`${ORIGIN}/${url}`)
      meanwhile.push(event.id)
      return edge.events({ site: KEY, ...(answer ? { contact: answer.contact, state: answer.state } : {}), events: [event] })
    }
    visitor = await send(visitor, 'while-moving')
    const newcomer = await send(undefined, 'new-while-moving')
    // The first step copies a page; then more visits, in the middle of the move.
    await edge.flush()
    expect((await edge.admin<Json>('GET', `/sites/${SITE}`)).body.movingTo).toEqual(['SHARD_2'])
    // Held in the queue, written nowhere yet.
    for (const name of ['SHARD_1', 'SHARD_2']) expect(await column(name, 'SELECT id FROM events WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))', SITE, JSON.stringify(meanwhile))).toEqual([])
    expect(edge.queue.filter((m) => m.kind === 'visit')).toHaveLength(2)
    // A writer that read the placement before the move began finds the shard fenced: nothing is written
    // where the move copies from; its message is retried, then held like the others.
    const late = edge.queue.find((m) => m.kind === 'visit') as VisitMessage
    const oldPlacement = siteData(env, { id: SITE, shards: ['SHARD_1'] })
    const compiled = compileSite((await buildSiteConfig(env.DB, SITE))!)
    await expect(writeVisits(oldPlacement, compiled, [late], new Map())).rejects.toThrow(/site moving/)
    kimBrowser = await send(kimBrowser, 'kim-while-moving')
    visitor = await send(visitor, 'again-while-moving')
    const rounds = await drain()
    expect(rounds).toBeGreaterThan(5)

    const site = (await edge.admin<Json>('GET', `/sites/${SITE}`)).body
    expect(site.shards).toEqual(['SHARD_2'])
    expect(site.movingTo).toBeUndefined()

    const after = await rowsOn('SHARD_2', SITE)
    // Every contact once, with the newcomer; every activity once, with those sent meanwhile.
    const contactIds = await column('SHARD_2', 'SELECT id FROM contacts WHERE site_id = ?1', SITE)
    expect(contactIds.sort()).toEqual([...beforeIds, await idOf(newcomer)].sort())
    const eventIds = await column('SHARD_2', 'SELECT id FROM events WHERE site_id = ?1', SITE)
    expect(eventIds.sort()).toEqual([...beforeEvents, ...meanwhile].sort())
    for (const row of before.events) expect(after.events).toContain(row)
    // Kim's old browser still leads to her: its visit is hers.
    expect(await column('SHARD_2', 'SELECT contact_id FROM events WHERE site_id = ?1 AND url = ?2', SITE, `${ORIGIN}/kim-while-moving`)).toEqual(['kim'])
    // The rest arrived as it was: memberships, identities, the alias, the erasure, the marks of messages written.
    for (const table of ['segment_members', 'contact_identities', 'contact_aliases', 'erased_contacts', 'workflow_counters'] as const) {
      for (const row of before[table]) expect(after[table], table).toContain(row)
    }
    expect(after.processed_messages.length).toBeGreaterThanOrEqual(before.processed_messages.length + 3)
    // The static membership still counts; the bulk segment still has its members.
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/segments/seg_vip`)).body.members).toBe(1)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/segments/seg_bulk`)).body.members).toBe(2 * MOVE_PAGE + 50 - 1)

    // SHARD_1 keeps nothing of the site but its fenced row, which still refuses a writer on the old placement.
    expect(Object.values(await rowsOn('SHARD_1', SITE)).flat()).toEqual([])
    expect(await countOn('SHARD_1', 'sites', SITE)).toBe(1)
    await expect(writeVisits(oldPlacement, compiled, [late], new Map())).rejects.toThrow(/site moving/)
    expect(await column('SHARD_1', 'SELECT count(*) FROM events WHERE site_id = ?1', SITE)).toEqual(['0'])
    // Changes are taken again, and land on SHARD_2.
    expect((await edge.admin('PATCH', `/sites/${SITE}/contacts/kim`, { fields: { firstName: 'Kimberly' } })).status).toBe(200)
    expect(await column('SHARD_2', 'SELECT first_name FROM contacts WHERE site_id = ?1 AND id = ?2', SITE, 'kim')).toEqual(['Kimberly'])
    await drain()

  })

  it('shows the shard it is on in the console, with its size and how many contacts it holds', async () => {
    const page = await consolePage(`/admin/sites/${SITE}`)
    const card = page.slice(page.indexOf('Data shards'))
    expect(card).toContain('SHARD_2')
    expect(card).not.toContain('SHARD_1')
    expect(card).not.toMatch(/moving to/)
    expect(card).toMatch(/\d+(\.\d)? (B|KB|MB|GB)/)
    const contacts = await countOn('SHARD_2', 'contacts', SITE)
    expect(card).toContain(contacts.toLocaleString('en'))
  })
})

describe('moves between placements that share shards', () => {
  it('spreads a site over two shards, each contact on the one its id picks, and gathers it back onto one', async () => {
    const all = await rowsAcross(['SHARD_1', 'SHARD_2'], SITE)
    const start = await edge.admin<Json>('POST', `/sites/${SITE}/move`, { shards: ['SHARD_2', 'SHARD_1'] })
    expect(start.status).toBe(202)
    // Placed in shard number order, as a new site is.
    expect(start.body.movingTo).toEqual(['SHARD_1', 'SHARD_2'])
    await drain()
    expect((await edge.admin<Json>('GET', `/sites/${SITE}`)).body).toMatchObject({ shards: ['SHARD_1', 'SHARD_2'] })
    expect(await rowsAcross(['SHARD_1', 'SHARD_2'], SITE)).toMatchObject({ contacts: all.contacts, events: all.events, segment_members: all.segment_members })
    const placement = ['SHARD_1', 'SHARD_2']
    for (const name of placement) {
      const ids = await column(name, 'SELECT id FROM contacts WHERE site_id = ?1', SITE)
      expect(ids.length).toBeGreaterThan(0)
      for (const id of ids) expect(placement[shardIndex(id, 2)], id).toBe(name)
      for (const id of await column(name, 'SELECT contact_id FROM events WHERE site_id = ?1', SITE)) expect(placement[shardIndex(id, 2)]).toBe(name)
    }
    const found = await edge.admin<Json>('GET', `/sites/${SITE}/contacts?q=bulk-&limit=200`)
    expect(found.body.items).toHaveLength(200)

    expect((await edge.admin('POST', `/sites/${SITE}/move`, { shards: ['SHARD_1'] })).status).toBe(202)
    await drain()
    expect((await edge.admin<Json>('GET', `/sites/${SITE}`)).body).toMatchObject({ shards: ['SHARD_1'] })
    const back = await rowsOn('SHARD_1', SITE)
    for (const table of ['contacts', 'events', 'segment_members', 'contact_identities', 'contact_aliases', 'erased_contacts'] as const) expect(back[table], table).toEqual(all[table])
    expect(Object.values(await rowsOn('SHARD_2', SITE)).flat()).toEqual([])
  }, 60_000)
})

describe('a site whose data is in the control database', () => {
  it('moves to a data shard; the control database keeps its row and nothing of its contacts', async () => {
    const site = 'old-timer'
    await siteOn(site, 'pk_old_timer_test', ['DB'])
    const contacts = Array.from({ length: 30 }, (_, i) => ({ id: `old-${i}`, email: `old-${i}@example.com` }))
    expect((await edge.admin('POST', `/sites/${site}/contacts/batch`, { contacts })).status).toBe(200)
    await drain()
    expect(await countOn('DB', 'contacts', site)).toBe(30)
    const visitor = await edge.events({ site: 'pk_old_timer_test', events: [pageVisit()] })
    await drain()

    expect((await edge.admin('POST', `/sites/${site}/move`, { shards: ['SHARD_1'] })).status).toBe(202)
    await edge.events({ site: 'pk_old_timer_test', contact: visitor.contact, state: visitor.state, events: [pageVisit(`${ORIGIN}/meanwhile`)] })
    await drain()

    expect((await edge.admin<Json>('GET', `/sites/${site}`)).body).toMatchObject({ shards: ['SHARD_1'] })
    expect(await countOn('SHARD_1', 'contacts', site)).toBe(31)
    expect(await countOn('SHARD_1', 'events', site)).toBe(2)
    expect(Object.values(await rowsOn('DB', site)).flat()).toEqual([])
    expect(await countOn('DB', 'sites', site)).toBe(1)
    expect((await edge.admin<Json>('GET', `/sites/${site}/contacts/${await idOf(visitor, site)}/events`)).body.items).toHaveLength(2)
  })
})

describe('a move called off', () => {
  it('leaves the site where it was, takes visits there again, and empties the shard it was going to', async () => {
    const site = 'stayer'
    await siteOn(site, 'pk_stayer_test', ['SHARD_1'])
    const contacts = Array.from({ length: MOVE_PAGE + 10 }, (_, i) => ({ id: `stay-${i}`, email: `stay-${i}@example.com` }))
    expect((await edge.admin('POST', `/sites/${site}/contacts/batch`, { contacts })).status).toBe(200)
    await drain()
    const before = await rowsOn('SHARD_1', site)

    expect((await edge.admin('POST', `/sites/${site}/move`, { shards: ['SHARD_2'] })).status).toBe(202)
    const answer = await edge.events({ site: 'pk_stayer_test', events: [pageVisit()] })
    await edge.flush()
    expect(await countOn('SHARD_2', 'contacts', site)).toBe(MOVE_PAGE)

    const stopped = await edge.admin<Json>('DELETE', `/sites/${site}/move`)
    expect(stopped.status).toBe(200)
    expect(stopped.body.shards).toEqual(['SHARD_1'])
    expect(stopped.body.movingTo).toBeUndefined()
    expect((await edge.admin<Json>('DELETE', `/sites/${site}/move`)).body.error.code).toBe('site_not_moving')
    // Not onto SHARD_2 again until it has let go of what was copied.
    const early = await edge.admin<Json>('POST', `/sites/${site}/move`, { shards: ['SHARD_2'] })
    expect(early.status).toBe(409)
    expect(early.body.error.code).toBe('shard_not_clean')
    await drain()

    expect(Object.values(await rowsOn('SHARD_2', site)).flat()).toEqual([])
    expect(await countOn('SHARD_2', 'sites', site)).toBe(0)
    const after = await rowsOn('SHARD_1', site)
    expect(after.contacts).toEqual(expect.arrayContaining(before.contacts))
    expect(await countOn('SHARD_1', 'contacts', site)).toBe(MOVE_PAGE + 11)
    expect(await column('SHARD_1', 'SELECT contact_id FROM events WHERE site_id = ?1', site)).toEqual([await idOf(answer, site)])

    // Once let go of, the shard takes the site: the move started again goes through.
    expect((await edge.admin('POST', `/sites/${site}/move`, { shards: ['SHARD_2'] })).status).toBe(202)
    await drain()
    expect(await countOn('SHARD_2', 'contacts', site)).toBe(MOVE_PAGE + 11)
    expect(await countOn('SHARD_1', 'contacts', site)).toBe(0)
  })
})

describe('refusals', () => {
  it('refuses an unknown shard, the control database, a shard named twice, and the placement the site has', async () => {
    const site = (await edge.admin<Json>('GET', `/sites/${SITE}`)).body.shards as string[]
    for (const [shards, code] of [
      [['SHARD_9'], 'invalid_request'],
      [['DB'], 'invalid_request'],
      [['SHARD_2', 'SHARD_2'], 'invalid_request'],
      [[], 'invalid_request'],
      [site, 'same_placement'],
    ] as const) {
      const res = await edge.admin<Json>('POST', `/sites/${SITE}/move`, { shards })
      expect(res.status, JSON.stringify(shards)).toBe(400)
      expect(res.body.error).toMatchObject({ code, message: expect.any(String) })
    }
    expect((await edge.admin<Json>('POST', `/sites/${SITE}/move`, {})).status).toBe(400)
    expect((await edge.admin<Json>('POST', '/sites/nowhere/move', { shards: ['SHARD_1'] })).status).toBe(404)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}`)).body.movingTo).toBeUndefined()
    expect(edge.queue).toHaveLength(0)
  })

  it('drops a step of a move that no longer runs', async () => {
    const stale: QueueMessage = { kind: 'move', siteId: SITE, step: 'copy', from: ['SHARD_2'], to: ['SHARD_1'], shard: 0, part: 'contacts', after: '' }
    const shards = (await edge.admin<Json>('GET', `/sites/${SITE}`)).body.shards
    await moveStep(edge.env, stale)
    expect(edge.queue).toHaveLength(0)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}`)).body.shards).toEqual(shards)
  })
})
