/**
 * Sites and their contacts spread over data shards: where a new site goes, how a site's contacts spread,
 * what crosses shards (search, member lists and counts, previews), and a merge that moves an anonymous
 * contact's data to the shard of the contact it joins, losing and doubling nothing even when letting it go
 * fails.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { type VisitMessage } from '../../worker/background/messages'
import { database } from '../../worker/data/shards'
import { signIdentity } from '../../worker/visits/identity'
import { Edge, type EventsAnswer, ORIGIN, eid, pageVisit } from './edge-harness'
import { dataOf } from './fixtures'

const edge = new Edge()
const SITE = 'spread'
const KEY = 'pk_spread_test'
let secret: string

type Json = Record<string, any>

/** A D1 binding whose batches fail, the first `times` times, when one of their statements matches `sql`. */
function failing(db: D1Database, sql: RegExp, times: number): { db: D1Database; failed: () => number } {
  let failed = 0
  const text = new WeakMap<object, string>()
  const statement = (st: D1PreparedStatement, sqlText: string): D1PreparedStatement => {
    const proxy = new Proxy(st, {
      get(target, prop) {
        const value = Reflect.get(target, prop)
        if (prop === 'bind') return (...a: unknown[]) => statement(value.apply(target, a), sqlText)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    text.set(proxy, sqlText)
    return proxy
  }
  const real = new WeakMap<object, D1PreparedStatement>()
  const wrapped = new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (prop === 'prepare') {
        return (sqlText: string) => {
          const st = target.prepare(sqlText)
          const proxy = statement(st, sqlText)
          real.set(proxy, st)
          return proxy
        }
      }
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          if (failed < times && statements.some((s) => sql.test(text.get(s) ?? ''))) {
            failed++
            throw new Error('D1 is unavailable')
          }
          return target.batch(statements)
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { db: wrapped, failed: () => failed }
}

const idOf = (a: EventsAnswer) => edge.contactOf(SITE, a)

beforeAll(async () => {
  secret = await edge.seedDemo(SITE, KEY)
})

describe('placement', () => {
  it('spreads a site created over both shards, each contact on the shard its id picks', async () => {
    const site = await edge.admin<Json>('GET', `/sites/${SITE}`)
    expect(site.body.shards).toEqual(['SHARD_1', 'SHARD_2'])
    const data = await dataOf(SITE)
    const ids = await Promise.all(
      data.shards.map(async (shard) => (await shard.db.prepare('SELECT id FROM contacts WHERE site_id = ?1').bind(SITE).all<{ id: string }>()).results.map((r) => r.id)),
    )
    // The demo's contacts are on both, each where its id hashes to, and on no other.
    expect(ids[0].length).toBeGreaterThan(0)
    expect(ids[1].length).toBeGreaterThan(0)
    data.shards.forEach((shard, i) => ids[i].forEach((id) => expect(data.shardOf(id)).toBe(shard)))
  })

  it('puts a new site on the emptiest shard, and refuses more shards than there are', async () => {
    const fill = await edge.admin<Json>('POST', '/sites', { id: 'fill', name: 'Fill' })
    expect(fill.status).toBe(201)
    const [full] = fill.body.shards as string[]
    for (let batch = 0; batch < 3; batch++) {
      const contacts = Array.from({ length: 1000 }, (_, i) => ({ id: `f${batch}-${i}`, email: `f${batch}-${i}@example.com`, fields: { firstName: 'Filler', city: 'Somewhere far away' } }))
      expect((await edge.admin('POST', '/sites/fill/contacts/batch', { contacts })).status).toBe(200)
    }
    const next = await edge.admin<Json>('POST', '/sites', { id: 'next', name: 'Next' })
    expect(next.body.shards).toEqual([full === 'SHARD_1' ? 'SHARD_2' : 'SHARD_1'])
    const tooMany = await edge.admin<Json>('POST', '/sites', { id: 'too-many', name: 'Too many', shards: 3 })
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error).toMatchObject({ code: 'invalid_request', field: 'shards' })
    expect((await edge.admin('GET', '/sites/too-many')).status).toBe(404)
  })
})

describe('what crosses shards', () => {
  it('pages through search results and a segment\'s members in order, with counts summed', async () => {
    const data = await dataOf(SITE)
    const contacts = Array.from({ length: 30 }, (_, i) => ({ id: `page-${String(i).padStart(2, '0')}`, email: `page-${i}@example.com`, fields: { firstName: 'Paged' } }))
    expect((await edge.admin('POST', `/sites/${SITE}/contacts/batch`, { contacts })).status).toBe(200)
    expect(new Set(contacts.map((c) => data.shardOf(c.id).name)).size).toBe(2)
    const segment = await edge.admin<Json>('POST', `/sites/${SITE}/segments`, {
      id: 'seg_paged', name: 'Paged', type: 'dynamic', conditions: { all: [{ field: 'firstName', op: 'eq', value: 'Paged' }] },
    })
    expect(segment.status, JSON.stringify(segment.body)).toBe(201)
    expect(segment.body).toMatchObject({ members: 30, backfill: { added: 30, removed: 0 } })
    const preview = await edge.admin<Json>('POST', `/sites/${SITE}/segments/preview`, { conditions: { all: [{ field: 'firstName', op: 'eq', value: 'Paged' }] }, sample: 5 })
    expect(preview.body.count).toBe(30)
    expect(preview.body.sample).toHaveLength(5)

    const members: string[] = []
    let cursor: string | null = null
    do {
      const page: { body: Json } = await edge.admin<Json>('GET', `/sites/${SITE}/segments/seg_paged/contacts?limit=7${cursor ? `&cursor=${cursor}` : ''}`)
      members.push(...page.body.items.map((c: Json) => c.id))
      cursor = page.body.nextCursor
    } while (cursor)
    expect(members).toEqual(contacts.map((c) => c.id))

    const found: string[] = []
    cursor = null
    do {
      const page: { body: Json } = await edge.admin<Json>('GET', `/sites/${SITE}/contacts?q=page-&limit=8${cursor ? `&cursor=${cursor}` : ''}`)
      found.push(...page.body.items.map((c: Json) => c.id))
      cursor = page.body.nextCursor
    } while (cursor)
    expect([...found].sort()).toEqual(contacts.map((c) => c.id))
    expect(new Set(found).size).toBe(30)
  })
})

describe('a merge across shards', () => {
  it('moves the anonymous contact\'s data to the shard of the contact it joins, losing and doubling nothing when letting go of it fails', async () => {
    const data = await dataOf(SITE)
    expect((await edge.admin('POST', `/sites/${SITE}/contacts/batch`, { contacts: [{ id: 'kim', email: 'kim@example.com', fields: { firstName: 'Kim' } }] })).status).toBe(200)
    const kimShard = data.shardOf('kim')

    // A browser whose contact lives on the other shard.
    let browser: EventsAnswer | undefined
    let visitor = ''
    for (let i = 0; i < 40 && !browser; i++) {
      const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/rock/first`)] })
      if (data.shardOf(await idOf(answer)) !== kimShard) [browser, visitor] = [answer, await idOf(answer)]
    }
    expect(browser).toBeDefined()
    const home = data.shardOf(visitor)
    let answer = browser!
    for (const path of ['rock/second', 'jazz/third']) answer = await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [pageVisit(`${ORIGIN}/${path}`)] })
    while (edge.queue.length > 0) await edge.flush()
    expect((await edge.admin('PUT', `/sites/${SITE}/contacts/${visitor}/segments/seg_vip`)).status).toBe(200)
    while (edge.queue.length > 0) await edge.flush()

    const count = (db: D1Database, table: string, column: string, id: string) =>
      db.prepare(`SELECT count(*) AS n FROM ${table} WHERE site_id = ?1 AND ${column} = ?2`).bind(SITE, id).first<{ n: number }>().then((r) => r!.n)
    const runs = (db: D1Database, id: string) =>
      db.prepare('SELECT coalesce(sum(runs), 0) AS n FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2').bind(SITE, id).first<{ n: number }>().then((r) => r!.n)
    const visitorEvents = await count(home.db, 'events', 'contact_id', visitor)
    expect(visitorEvents).toBe(3)
    const runsBefore = (await runs(home.db, visitor)) + (await runs(kimShard.db, 'kim'))

    const signature = await signIdentity(secret, { kind: 'email', value: 'kim@example.com' }, Date.now())
    const signedIn = await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [{ id: eid(), type: 'identify', email: 'kim@example.com', signature }, pageVisit(`${ORIGIN}/rock/after`)] })
    expect(await idOf(signedIn)).toBe('kim')
    const carried = edge.queue.flatMap((m) => (m.kind === 'visit' ? (m as VisitMessage).counters.map(([, n]) => n) : [])).reduce((a, b) => a + b, 0)

    // The merge is written on Kim's shard, then letting the visitor go on its own shard fails: in the
    // batch's transaction and again when the visit is written on its own. The message is retried.
    const faulty = failing(database(env, home.name), /state_rev = \?3 \+ 1/, 2)
    expect(await edge.flush({ [home.name]: faulty.db } as Partial<Env>)).toEqual({ acked: 0, retried: 1 })
    expect(faulty.failed()).toBe(2)
    expect(await count(kimShard.db, 'events', 'contact_id', 'kim')).toBe(visitorEvents + 2)
    expect(await count(home.db, 'contacts', 'id', visitor)).toBe(1)
    // A visit of the visitor's old browser meanwhile is written to it, and must follow it to Kim.
    await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [pageVisit(`${ORIGIN}/jazz/meanwhile`)] })
    while (edge.queue.length > 0) await edge.flush()

    // Everything of the visitor is now Kim's, on Kim's shard, each activity once.
    const kimEvents = await kimShard.db
      .prepare('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events WHERE site_id = ?1 AND contact_id = ?2')
      .bind(SITE, 'kim')
      .first<{ n: number; ids: number }>()
    expect(kimEvents).toEqual({ n: visitorEvents + 3, ids: visitorEvents + 3 })
    expect(await count(kimShard.db, 'segment_members', 'contact_id', 'kim')).toBeGreaterThan(0)
    const kim = await edge.admin<Json>('GET', `/sites/${SITE}/contacts/kim`)
    expect(kim.body.segments.map((s: Json) => s.id)).toContain('seg_vip')
    expect(await runs(kimShard.db, 'kim')).toBe(runsBefore + carried)
    // Nothing of it is left on its own shard but the alias that leads to Kim; no copy of it anywhere else.
    for (const [table, column] of [['contacts', 'id'], ['events', 'contact_id'], ['segment_members', 'contact_id'], ['workflow_counters', 'contact_id']]) {
      for (const shard of data.shards) expect(await count(shard.db, table, column, visitor), `${table} on ${shard.name}`).toBe(0)
    }
    expect(await home.db.prepare('SELECT contact_id FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2').bind(SITE, visitor).first('contact_id')).toBe('kim')
    // The visitor's browser still reaches Kim.
    const back = await edge.events({ site: KEY, contact: answer.contact, events: [pageVisit(`${ORIGIN}/rock/back`)] })
    expect(await idOf(back)).toBe('kim')
  }, 60_000)

  it('merges a contact whose first visit is not written yet, in the same batch as the merge or after it', async () => {
    const data = await dataOf(SITE)
    for (const order of ['visit first', 'merge first'] as const) {
      const owner = order === 'visit first' ? 'lee' : 'max'
      expect((await edge.admin('POST', `/sites/${SITE}/contacts/batch`, { contacts: [{ id: owner, email: `${owner}@example.com` }] })).status).toBe(200)
      while (edge.queue.length > 0) await edge.flush()
      // A new browser on the other shard, its first visit still queued.
      let first: EventsAnswer | undefined
      for (let i = 0; i < 40 && !first; i++) {
        const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/jazz/new`)] })
        if (data.shardOf(await idOf(answer)) !== data.shardOf(owner)) first = answer
        else edge.queue.pop()
      }
      const visitor = await idOf(first!)
      const visitId = (edge.queue[0] as VisitMessage).activities[0].id
      const signature = await signIdentity(secret, { kind: 'email', value: `${owner}@example.com` }, Date.now())
      await edge.events({ site: KEY, contact: first!.contact, state: first!.state, events: [{ id: eid(), type: 'identify', email: `${owner}@example.com`, signature }] })
      expect(edge.queue).toHaveLength(2)
      if (order === 'merge first') edge.queue.reverse()
      while (edge.queue.length > 0) await edge.flush()

      const ids = await data.shardOf(owner).db.prepare('SELECT id FROM events WHERE site_id = ?1 AND contact_id = ?2').bind(SITE, owner).all<{ id: string }>()
      expect(ids.results.map((r) => r.id), order).toContain(visitId)
      for (const shard of data.shards) {
        expect(await shard.db.prepare('SELECT count(*) AS n FROM contacts WHERE site_id = ?1 AND id = ?2').bind(SITE, visitor).first('n'), `${order}: ${shard.name}`).toBe(0)
      }
      expect(await data.of(visitor).prepare('SELECT contact_id FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2').bind(SITE, visitor).first('contact_id'), order).toBe(owner)
    }
  }, 60_000)
})
