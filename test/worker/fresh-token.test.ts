/**
 * A request whose state token was checked against KV under TOKEN_FRESH_MS ago is decided on the token
 * alone: no KV read. Held here: that window and no longer (admin changes reach the visitor once it has
 * passed), and nothing an admin removed comes back through it (an erased contact stays erased, a merged
 * one's visits go to the contact it was merged into).
 */
import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { TOKEN_FRESH_MS } from '../../worker/visits/token'
import { Edge, type EventsAnswer, ORIGIN, eid, pageVisit, contentIds } from './edge-harness'

const edge = new Edge()
const SITE = 'freshtoken'
const KEY = 'pk_freshtoken_test'

const idOf = (a: EventsAnswer) => edge.contactOf(SITE, a)
/** The visitor's next request, carrying the browser id and state token of the last answer, as the SDK does. */
const next = (last: EventsAnswer, events: unknown[], kv?: KVNamespace) => edge.events({ site: KEY, contact: last.contact, state: last.state, events }, kv && { KV: kv })
/** Moves the Worker's clock on, as time passes between two requests of a session. */
const wait = (ms: number) => vi.setSystemTime(Date.now() + ms)

/** A KV binding that counts the reads of contacts' snapshots made through it. */
function countingKv(): { kv: KVNamespace; reads: () => number } {
  let n = 0
  const kv = new Proxy(env.KV, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (prop === 'get' || prop === 'getWithMetadata') {
        return (key: string, ...rest: unknown[]) => {
          if (key.startsWith('contact:')) n++
          return (value as Function).call(target, key, ...rest)
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { kv, reads: () => n }
}

async function rows(sql: string, ...binds: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${sql}`).bind(SITE, ...binds).first<{ n: number }>()
  return row!.n
}

beforeAll(async () => {
  await edge.seedDemo(SITE, KEY)
  await edge.admin('POST', `/sites/${SITE}/content`, { id: 'vip-offer', name: 'VIP offer', format: 'bar', title: 'Early access for VIPs' })
  const created = await edge.admin('POST', `/sites/${SITE}/workflows`, {
    id: 'wf_vip',
    name: 'VIP offer',
    status: 'active',
    start: { trigger: { type: 'page_visit', url: { op: 'contains', value: '/vip' } }, limitation: { segment: 'seg_vip' } },
    entry: 'show',
    nodes: { show: { type: 'showContent', content: 'vip-offer' } },
  })
  expect(created.status).toBe(201)
})

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('a state token checked under TOKEN_FRESH_MS ago', () => {
  it('decides alone, and a session that never pauses still reads KV once a window', async () => {
    const first = await edge.events({ site: KEY, events: [pageVisit()] })
    await edge.flush()
    const { kv, reads } = countingKv()
    wait(TOKEN_FRESH_MS * 0.6)
    const second = await next(first, [pageVisit(`${ORIGIN}/a`)], kv)
    expect(second.contact).toBe(first.contact)
    expect(reads()).toBe(0)
    // The second answer's token was made just now, but its state was last checked against KV with the first.
    wait(TOKEN_FRESH_MS * 0.6)
    const third = await next(second, [pageVisit(`${ORIGIN}/b`)], kv)
    expect(third.contact).toBe(first.contact)
    expect(reads()).toBe(1)
    await next(third, [pageVisit(`${ORIGIN}/c`)], kv)
    expect(reads()).toBe(1)
    await edge.flush()
    const urls = (await edge.admin('GET', `/sites/${SITE}/contacts/${await idOf(first)}/events`)).body.items.map((e: { url: string }) => new URL(e.url).pathname)
    expect(urls.sort()).toEqual(['/', '/a', '/b', '/c'])
  })

  it('shows an admin\'s change to the contact once the window has passed', async () => {
    const first = await edge.events({ site: KEY, events: [pageVisit()] })
    await edge.flush()
    expect((await edge.admin('PUT', `/sites/${SITE}/contacts/${await idOf(first)}/segments/seg_vip`)).status).toBeLessThan(300)
    await edge.flush()
    const within = await next(first, [pageVisit(`${ORIGIN}/vip`)])
    expect(contentIds(within)).not.toContain('vip-offer')
    await edge.flush()
    wait(TOKEN_FRESH_MS + 1_000)
    const after = await next(within, [pageVisit(`${ORIGIN}/vip`)])
    expect(contentIds(after)).toContain('vip-offer')
  })

  it('brings back nothing of an erased contact: its visit is written nowhere, and the browser becomes a new contact', async () => {
    const first = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', fields: { firstName: 'Erin', birthDate: '1990-01-01' } }, pageVisit()] })
    await edge.flush()
    const erasedId = await idOf(first)
    expect((await edge.admin('DELETE', `/sites/${SITE}/contacts/${erasedId}`)).status).toBe(204)

    const visit = pageVisit(`${ORIGIN}/after-erasure`)
    const within = await next(first, [visit, { id: eid(), type: 'purchase', orderId: 'o-erased', amount: 30 }])
    await edge.flush()
    expect((await edge.admin('GET', `/sites/${SITE}/contacts/${erasedId}`)).status).toBe(404)
    expect(await rows('events WHERE site_id = ?1 AND (contact_id = ?2 OR id = ?3)', erasedId, visit.id)).toBe(0)
    expect(await rows('contacts WHERE site_id = ?1 AND id = ?2', erasedId)).toBe(0)
    expect(await rows('segment_members WHERE site_id = ?1 AND contact_id = ?2', erasedId)).toBe(0)
    expect(await rows('workflow_counters WHERE site_id = ?1 AND contact_id = ?2', erasedId)).toBe(0)
    expect(await env.KV.get(`contact:${SITE}:${erasedId}`, 'json')).toHaveProperty('erased')

    wait(TOKEN_FRESH_MS + 1_000)
    const after = await next(within, [pageVisit(`${ORIGIN}/later`)])
    const newId = await idOf(after)
    expect(newId).not.toBe(erasedId)
    await edge.flush()
    expect((await edge.admin('GET', `/sites/${SITE}/contacts/${erasedId}`)).status).toBe(404)
    expect((await edge.admin('GET', `/sites/${SITE}/contacts/${newId}`)).body).toMatchObject({ fields: {}, segments: [] })
  })

  it('writes the visit of a contact an admin merged meanwhile to the contact it was merged into', async () => {
    const anon = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/before`)] })
    await edge.flush()
    const anonId = await idOf(anon)
    expect((await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'fresh-known', email: 'fresh-known@example.com' })).status).toBe(201)
    expect((await edge.admin('POST', `/sites/${SITE}/contacts/${anonId}/merge`, { into: 'fresh-known' })).status).toBe(200)
    await edge.flush()

    const within = await next(anon, [pageVisit(`${ORIGIN}/during`)])
    await edge.flush()
    wait(TOKEN_FRESH_MS + 1_000)
    const after = await next(within, [pageVisit(`${ORIGIN}/after`)])
    expect(await idOf(after)).toBe('fresh-known')
    await edge.flush()
    expect((await edge.admin('GET', `/sites/${SITE}/contacts/${anonId}`)).status).toBe(404)
    const urls = (await edge.admin('GET', `/sites/${SITE}/contacts/fresh-known/events`)).body.items.map((e: { url: string }) => new URL(e.url).pathname)
    expect(urls.sort()).toEqual(['/after', '/before', '/during'])
  })
})
