/**
 * The demo's scenario end to end, through POST /v1/events, the queue consumer, D1 and KV.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { signIdentity } from '../../worker/visits/identity'
import { Edge, ORIGIN, countingD1, eid, pageVisit, staleKv, contentIds } from './edge-harness'
import { dataOf, rowsOf } from './fixtures'

const edge = new Edge()
const SITE = 'demoshop'
const KEY = 'pk_demoshop_test'
let secret: string

const identify = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id: eid(), type: 'identify', fields, ...extra })

async function eventCount(contactId: string) {
  const rows = await rowsOf<{ n: number }>(SITE, 'SELECT count(*) AS n FROM events WHERE site_id = ?1 AND contact_id = ?2', SITE, contactId)
  return rows.reduce((n, r) => n + r.n, 0)
}


beforeAll(async () => {
  secret = await edge.seedDemo(SITE, KEY)
})

describe('Album of the week', () => {
  it('shows the rock popup to a visitor born in 1990', async () => {
    const answer = await edge.events({ site: KEY, events: [identify({ birthDate: '1990-04-02' }), pageVisit()] })
    expect(contentIds(answer)).toEqual(['rock'])
    expect(answer.content[0]).toMatchObject({ format: 'popup', title: 'Rock album of the week', cta: { label: 'Listen now' } })
    expect(answer.contact).toMatch(/^b1\./)
    expect(await edge.contactOf(SITE, answer)).toMatch(/^c_/)
    expect(answer.state).toMatch(/^1\./)
  })

  it('shows the jazz popup to a visitor born in 1970', async () => {
    const answer = await edge.events({ site: KEY, events: [identify({ birthDate: '1970-09-15' }), pageVisit()] })
    expect(contentIds(answer)).toEqual(['jazz'])
  })

  it('shows neither popup twice in a day', async () => {
    const first = await edge.events({ site: KEY, events: [identify({ birthDate: '1991-01-01' }), pageVisit()] })
    expect(contentIds(first)).toEqual(['rock'])
    const again = await edge.events({ site: KEY, contact: first.contact, state: first.state, events: [pageVisit(`${ORIGIN}/albums`)] })
    expect(again.content).toEqual([])
    await edge.flush()
    const fromKv = await edge.events({ site: KEY, contact: first.contact, events: [pageVisit(`${ORIGIN}/other`)] })
    expect(fromKv.content).toEqual([])
    const older = await edge.events({ site: KEY, contact: first.contact, events: [identify({ birthDate: '1960-01-01' }), pageVisit()] })
    expect(older.content).toEqual([])
  })

  it('answers a visitor whose birth date is unknown with the jazz popup', async () => {
    expect(contentIds(await edge.events({ site: KEY, events: [pageVisit()] }))).toEqual(['jazz'])
  })

  it('shows nothing in the answer about segments', async () => {
    const answer = await edge.events({ site: KEY, events: [identify({ birthDate: '1990-04-02' }), pageVisit()] })
    expect(Object.keys(answer).sort()).toEqual(['contact', 'content', 'state'])
    expect(JSON.stringify(answer)).not.toMatch(/seg_|millennial/i)
  })
})

describe('Welcome buyers', () => {
  it('puts a contact who buys into Buyers, on the edge at once and in D1 after the queue', async () => {
    const first = await edge.events({ site: KEY, events: [pageVisit()] })
    const bought = await edge.events({ site: KEY, contact: first.contact, state: first.state, events: [{ id: eid(), type: 'purchase', orderId: 'o-1', amount: 24.9, currency: 'EUR' }] })
    expect(bought.contact).toBe(first.contact)
    await edge.flush()
    const id = await edge.contactOf(SITE, first)
    const segments = await edge.admin('GET', `/sites/${SITE}/contacts/${id}/segments`)
    expect(segments.body.items).toMatchObject([{ id: 'seg_buyers', source: 'workflow' }])
    const timeline = await edge.admin('GET', `/sites/${SITE}/contacts/${id}/events`)
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toEqual(['purchase', 'page_visit'])
  })
})

describe('Start limitation', () => {
  it('keeps contacts outside the limiting segment out of the workflow', async () => {
    await edge.admin('POST', `/sites/${SITE}/content`, { id: 'thanks', name: 'Thanks', format: 'bar', title: 'Thanks for buying!' })
    const created = await edge.admin('POST', `/sites/${SITE}/workflows`, {
      id: 'wf_thanks',
      name: 'Thank buyers',
      status: 'active',
      start: { trigger: { type: 'page_visit', url: { op: 'contains', value: '/thanks' } }, limitation: { segment: 'seg_buyers' } },
      entry: 'show',
      nodes: { show: { type: 'showContent', content: 'thanks' } },
    })
    expect(created.status).toBe(201)
    const browser = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/thanks`)] })
    expect(contentIds(browser)).not.toContain('thanks')
    const buyer = await edge.events({ site: KEY, contact: browser.contact, state: browser.state, events: [{ id: eid(), type: 'purchase', amount: 10 }, pageVisit(`${ORIGIN}/thanks`)] })
    expect(contentIds(buyer)).toContain('thanks')
    await edge.admin('POST', `/sites/${SITE}/workflows/wf_thanks/pause`)
    const paused = await edge.events({ site: KEY, contact: buyer.contact, state: buyer.state, events: [pageVisit(`${ORIGIN}/thanks`)] })
    expect(contentIds(paused)).not.toContain('thanks')
  })
})

describe('the queue', () => {
  it('stores each event exactly once when D1 fails and the message is retried', async () => {
    await edge.flush()
    const answer = await edge.events({ site: KEY, events: [pageVisit(), { id: eid(), type: 'custom', name: 'wishlist', props: { album: 'Blue Hours' } }] })
    const id = await edge.contactOf(SITE, answer)
    const shard = (await dataOf(SITE)).shardOf(id)
    const failing = new Proxy(shard.db, {
      get(target, prop) {
        if (prop === 'batch') return async () => Promise.reject(new Error('D1 is unavailable'))
        const v = Reflect.get(target, prop)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    expect(await edge.flush({ [shard.name]: failing })).toEqual({ acked: 0, retried: 1 })
    expect(await eventCount(id)).toBe(0)
    expect(await edge.flush()).toEqual({ acked: 1, retried: 0 })
    expect(await eventCount(id)).toBe(2)
    edge.queue.push(...(await replayOf(answer)))
    expect(edge.queue).toHaveLength(2)
    await edge.flush()
    expect(await eventCount(id)).toBe(3)
  })
})

/** One more visit, whose message the queue then delivers twice. */
async function replayOf(previous: { contact: string }) {
  const answer = await edge.events({ site: KEY, contact: previous.contact, events: [pageVisit()] })
  const message = edge.queue[edge.queue.length - 1]
  expect(message).toMatchObject({ kind: 'visit', contactId: await edge.contactOf(SITE, answer) })
  return [structuredClone(message)]
}

describe('identify and merge', () => {
  it('merges an anonymous visitor into the known contact whose email the site signed, keeping history', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'known-dana', email: 'dana@example.com', fields: { firstName: 'Dana' } })
    await edge.admin('PUT', `/sites/${SITE}/contacts/known-dana/segments/seg_vip`)
    await edge.flush()
    const anon = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/rock/1`), pageVisit(`${ORIGIN}/rock/2`)] })
    const anonId = await edge.contactOf(SITE, anon)
    await edge.flush()
    const signature = await signIdentity(secret, { kind: 'email', value: 'dana@example.com' }, Date.now())
    const merged = await edge.events({ site: KEY, contact: anon.contact, state: anon.state, events: [{ id: eid(), type: 'identify', email: 'dana@example.com', signature, fields: { birthDate: '1988-02-02' } }] })
    expect(await edge.contactOf(SITE, merged)).toBe('known-dana')
    expect(JSON.stringify(merged)).not.toContain('known-dana')
    await edge.flush()
    const dana = await edge.admin('GET', `/sites/${SITE}/contacts/known-dana`)
    expect(dana.body).toMatchObject({ email: 'dana@example.com', fields: { firstName: 'Dana', birthDate: '1988-02-02' } })
    expect(dana.body.segments.map((s: { id: string }) => s.id).sort()).toEqual(['seg_millennials', 'seg_vip'])
    expect(await eventCount('known-dana')).toBe(3)
    expect((await edge.admin('GET', `/sites/${SITE}/contacts/${anonId}`)).status).toBe(404)
    const later = await edge.events({ site: KEY, contact: anon.contact, events: [pageVisit()] })
    expect(await edge.contactOf(SITE, later)).toBe('known-dana')
  })
})

describe('the hot path', () => {
  it('decides for a returning contact without a single D1 query', async () => {
    const first = await edge.events({ site: KEY, events: [identify({ birthDate: '1990-04-02' }), pageVisit()] })
    await edge.flush()
    const { bindings, calls } = countingD1()
    const answer = await edge.events({ site: KEY, contact: first.contact, events: [pageVisit(`${ORIGIN}/a`), { id: eid(), type: 'purchase', amount: 5 }] }, bindings)
    expect(answer.contact).toBe(first.contact)
    expect(calls()).toEqual([])
    const withToken = await edge.events({ site: KEY, contact: first.contact, state: answer.state, events: [pageVisit(`${ORIGIN}/b`)] }, bindings)
    expect(withToken.contact).toBe(first.contact)
    expect(calls()).toEqual([])
    // A browser id KV has lost (and with no token) is looked for in D1: the spy is live.
    await env.KV.delete(`contact:${SITE}:${await edge.contactOf(SITE, first)}`)
    const fromD1 = await edge.events({ site: KEY, contact: first.contact, events: [pageVisit()] }, bindings)
    expect(calls().length).toBeGreaterThan(0)
    expect(fromD1.contact).toBe(first.contact)
  })

  it('gives an id the Worker did not issue a new contact, without asking D1', async () => {
    const { bindings, calls } = countingD1()
    const answer = await edge.events({ site: KEY, contact: 'never-seen-before-1234', events: [pageVisit()] }, bindings)
    expect(answer.contact).not.toBe('never-seen-before-1234')
    expect(await edge.contactOf(SITE, answer)).toMatch(/^c_/)
    expect(calls()).toEqual([])
  })
})

describe('consistency for one visitor while KV is stale', () => {
  it('shows the rock popup to an identify followed at once by a page visit', async () => {
    const kv = staleKv(env.KV, new Map())
    const identified = await edge.events({ site: KEY, events: [identify({ birthDate: '1992-06-01' })] }, { KV: kv })
    expect(identified.content).toEqual([])
    const visit = await edge.events({ site: KEY, contact: identified.contact, state: identified.state, events: [pageVisit()] }, { KV: kv })
    expect(contentIds(visit)).toEqual(['rock'])
  })

  it('does not show a once-a-day popup again on the very next request when KV still holds the old snapshot', async () => {
    const first = await edge.events({ site: KEY, events: [identify({ birthDate: '1970-01-01' })] })
    await edge.flush()
    const key = `contact:${SITE}:${await edge.contactOf(SITE, first)}`
    const kv = staleKv(env.KV, new Map([[key, await env.KV.get(key)]]))
    const shown = await edge.events({ site: KEY, contact: first.contact, state: first.state, events: [pageVisit()] }, { KV: kv })
    expect(contentIds(shown)).toEqual(['jazz'])
    await edge.flush()
    const next = await edge.events({ site: KEY, contact: first.contact, state: shown.state, events: [pageVisit()] }, { KV: kv })
    expect(next.content).toEqual([])
  })

  it('ignores a forged, truncated or foreign token and never fails because of one', async () => {
    const first = await edge.events({ site: KEY, events: [identify({ birthDate: '1990-01-01' }), pageVisit()] })
    const other = await edge.events({ site: KEY, events: [identify({ birthDate: '1970-01-01' }), pageVisit()] })
    const kv = staleKv(env.KV, new Map())
    for (const state of [first.state!.slice(0, 40), `${first.state!.slice(0, -4)}AAAA`, other.state!, '2.whatever', 'x'.repeat(5000)]) {
      const res = await edge.send({ site: KEY, contact: first.contact, state, events: [pageVisit()] }, { envOverride: { KV: kv } })
      expect(res.status).toBe(200)
    }
  })
})

describe('admin changes reach the edge', () => {
  it('uses a changed workflow on the next request', async () => {
    const first = await edge.events({ site: KEY, events: [identify({ birthDate: '1990-04-02' })] })
    await edge.admin('PATCH', `/sites/${SITE}/workflows/wf_album_of_the_week`, {
      nodes: {
        segment: { type: 'isInSegment', segment: 'seg_millennials', yes: 'jazz', no: 'rock', limitation: { cooldown: '1d' } },
        rock: { type: 'showContent', content: 'rock' },
        jazz: { type: 'showContent', content: 'jazz' },
      },
    })
    const answer = await edge.events({ site: KEY, contact: first.contact, state: first.state, events: [pageVisit()] })
    expect(contentIds(answer)).toEqual(['jazz'])
    await edge.admin('PATCH', `/sites/${SITE}/workflows/wf_album_of_the_week`, {
      nodes: {
        segment: { type: 'isInSegment', segment: 'seg_millennials', yes: 'rock', no: 'jazz', limitation: { cooldown: '1d' } },
        rock: { type: 'showContent', content: 'rock' },
        jazz: { type: 'showContent', content: 'jazz' },
      },
    })
  })
})
