/**
 * An A/B test run as a marketer runs one: visitors split between two popups, each always shown the same
 * one, what they were shown, clicked and bought counted by variant, and the winner picked.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { Edge, type EventsAnswer, ORIGIN, eid, pageVisit } from './edge-harness'

const edge = new Edge()
const S = '/sites/abtest'
const KEY = 'pk_abtest_key'

type Json = Record<string, any>

beforeAll(async () => {
  await edge.admin('POST', '/sites', { id: 'abtest', key: KEY, name: 'AB', allowedOrigins: [ORIGIN], shards: 2 })
  for (const id of ['rock-a', 'rock-b']) await edge.admin('POST', `${S}/content`, { id, name: id, format: 'popup', title: id })
  const made = await edge.admin('POST', `${S}/workflows`, {
    id: 'wf_test',
    name: 'Rock popups',
    status: 'active',
    start: { trigger: { type: 'page_visit' } },
    entry: 'test',
    nodes: {
      test: { type: 'abTest', variants: [{ id: 'a', name: 'Classic', weight: 1, next: 'showA' }, { id: 'b', name: 'Bold', weight: 1, next: 'showB' }] },
      showA: { type: 'showContent', content: 'rock-a' },
      showB: { type: 'showContent', content: 'rock-b' },
    },
  })
  expect(made.status, JSON.stringify(made.body)).toBe(201)
})

const drain = async () => {
  while (edge.queue.length > 0) await edge.flush()
}

/** The visitors of the test, with the answer each got first and the variant's content. */
const seen = new Map<string, { answer: EventsAnswer; content: string }>()

describe('an A/B test', () => {
  it('shows each visitor one variant, the same on every visit, about half and half', async () => {
    for (let i = 0; i < 40; i++) {
      const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/p/${i}`)] })
      expect(answer.content).toHaveLength(1)
      seen.set(answer.contact, { answer, content: answer.content[0].id })
    }
    await drain()
    for (const [contact, { answer, content }] of [...seen].slice(0, 10)) {
      const again = await edge.events({ site: KEY, contact, state: answer.state, events: [pageVisit(`${ORIGIN}/again`)] })
      expect(again.content.map((c) => c.id)).toEqual([content])
    }
    const a = [...seen.values()].filter((s) => s.content === 'rock-a').length
    expect(a).toBeGreaterThan(8)
    expect(a).toBeLessThan(32)
  })

  it('reports per variant the contacts exposed, shown, clicked and closed, the purchases within the window, and the statistics', async () => {
    const expected = { a: { shown: 0, clicked: 0, conversions: 0, revenue: 0 }, b: { shown: 0, clicked: 0, conversions: 0, revenue: 0 } }
    let n = 0
    for (const [contact, { answer, content }] of seen) {
      const v = content === 'rock-a' ? 'a' : 'b'
      const events: Array<Record<string, unknown>> = [{ id: eid(), type: 'content', content, action: 'shown', workflow: 'wf_test' }]
      expected[v].shown++
      if (n % 2 === 0) {
        events.push({ id: eid(), type: 'content', content, action: 'clicked', workflow: 'wf_test' })
        expected[v].clicked++
      }
      // Variant b sells better: every other of its clickers buys, and one in four of a's.
      if (n % (v === 'b' ? 2 : 4) === 0) {
        events.push({ id: eid(), type: 'purchase', amount: 20, currency: 'EUR', orderId: `o-${n}` })
        expected[v].conversions++
        expected[v].revenue += 20
      }
      await edge.events({ site: KEY, contact, state: answer.state, events })
      n++
    }
    await drain()
    const report = await edge.admin<Json>('GET', `${S}/workflows/wf_test/tests/test`)
    expect(report.status, JSON.stringify(report.body)).toBe(200)
    const byId = Object.fromEntries(report.body.variants.map((v: Json) => [v.id, v]))
    for (const v of ['a', 'b'] as const) {
      expect(byId[v], v).toMatchObject({ shown: expected[v].shown, clicked: expected[v].clicked, conversions: expected[v].conversions, revenue: expected[v].revenue, closed: 0 })
      expect(byId[v].exposed, v).toBe(expected[v].shown)
      expect(byId[v].interval.low).toBeLessThanOrEqual(byId[v].conversionRate)
      expect(byId[v].interval.high).toBeGreaterThanOrEqual(byId[v].conversionRate)
    }
    expect(byId.a.probabilityBest + byId.b.probabilityBest).toBeCloseTo(1, 6)
    expect(report.body).toMatchObject({ winner: null, attributionDays: 7 })
    expect((await edge.admin('GET', `${S}/workflows/wf_test/tests/showA`)).status).toBe(404)
  })

  it('sends everyone to the winner once it is picked', async () => {
    expect((await edge.admin<Json>('POST', `${S}/workflows/wf_test/tests/test/winner`, { variant: 'c' })).status).toBe(400)
    const picked = await edge.admin<Json>('POST', `${S}/workflows/wf_test/tests/test/winner`, { variant: 'b' })
    expect(picked.status).toBe(200)
    expect(picked.body.nodes.test.winner).toBe('b')
    for (const [contact, { answer }] of [...seen].slice(10, 30)) {
      const again = await edge.events({ site: KEY, contact, state: answer.state, events: [pageVisit(`${ORIGIN}/after-winner`)] })
      expect(again.content.map((c) => c.id)).toEqual(['rock-b'])
    }
    expect((await edge.admin<Json>('GET', `${S}/workflows/wf_test/tests/test`)).body.winner).toBe('b')
  })
})

describe('the fatigue cap', () => {
  it('holds across requests, and after the queue has rebuilt the contact\'s snapshot from D1', async () => {
    const site = await edge.admin<Json>('POST', '/sites', { id: 'tired', key: 'pk_tired_key', name: 'Tired', allowedOrigins: [ORIGIN], fatigue: { perDay: 1 } })
    expect(site.body.fatigue).toEqual({ perSession: null, perDay: 1 })
    const T = '/sites/tired'
    for (const id of ['first', 'second']) await edge.admin('POST', `${T}/content`, { id, name: id, format: 'popup', title: id })
    for (const [id, content] of [['wf_a', 'first'], ['wf_b', 'second']]) {
      await edge.admin('POST', `${T}/workflows`, { id, name: id, status: 'active', start: { trigger: { type: 'page_visit', url: { op: 'contains', value: `/${content}` } } }, entry: 'show', nodes: { show: { type: 'showContent', content } } })
    }
    const one = await edge.events({ site: 'pk_tired_key', events: [pageVisit(`${ORIGIN}/first`)] })
    expect(one.content.map((c) => c.id)).toEqual(['first'])
    // The next request, with its state token: the cap holds.
    const two = await edge.events({ site: 'pk_tired_key', contact: one.contact, state: one.state, events: [pageVisit(`${ORIGIN}/second`)] })
    expect(two.content).toEqual([])
    // Once the queue has written the visits and rebuilt the snapshot in KV, a request without a token reads it there.
    await drain()
    const three = await edge.events({ site: 'pk_tired_key', contact: one.contact, events: [pageVisit(`${ORIGIN}/second`)] })
    expect(three.content).toEqual([])
    // A site without a cap shows both.
    expect((await edge.admin<Json>('PATCH', '/sites/tired', { fatigue: { perDay: null } })).body.fatigue).toEqual({ perSession: null, perDay: null })
    const four = await edge.events({ site: 'pk_tired_key', contact: one.contact, events: [pageVisit(`${ORIGIN}/second`)] })
    expect(four.content.map((c) => c.id)).toEqual(['second'])
    expect((await edge.admin<Json>('PATCH', '/sites/tired', { fatigue: { perDay: 0 } })).status).toBe(400)
  })
})

describe('the console', () => {
  it('links a workflow\'s A/B tests from the list and shows the report, with the winner', async () => {
    const cookie = await edge.consoleCookie('192.0.2.210')
    const list = await (await edge.fetch(`/admin${S}/workflows`, { headers: { cookie } })).text()
    expect(list).toContain(`href="/admin${S}/workflows/wf_test/tests/test"`)
    const page = await edge.fetch(`/admin${S}/workflows/wf_test/tests/test`, { headers: { cookie } })
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('Chance to be best')
    expect(html).toContain('Bold (winner)')
    expect(html).toContain('Wilson')
    expect((await edge.fetch(`/admin${S}/workflows/wf_test/tests/showA`, { headers: { cookie } })).status).toBe(404)
    // The overview credits the workflow with its conversions and revenue, as the test's report counts them.
    const report = (await edge.admin<Json>('GET', `${S}/workflows/wf_test/tests/test`)).body
    const conversions = report.variants.reduce((n: number, v: Json) => n + v.conversions, 0)
    const revenue = report.variants.reduce((n: number, v: Json) => n + v.revenue, 0)
    const overview = await (await edge.fetch(`/admin${S}`, { headers: { cookie } })).text()
    const row = /<th scope="row">Rock popups<\/th>((?:<td class="num">[^<]*<\/td>)+)/.exec(overview)![1]
    const cells = [...row.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((m) => Number(m[1]))
    // Shown, clicked, closed, converted and revenue, each over 7 and 30 days.
    expect(cells.slice(6)).toEqual([conversions, conversions, revenue, revenue])
    expect(conversions).toBeGreaterThan(0)
  })

  it('takes the attribution window from the site\'s settings', async () => {
    expect((await edge.admin<Json>('GET', '/sites/abtest')).body.attributionDays).toBe(7)
    for (const days of [0, 91, 1.5]) expect((await edge.admin('PATCH', '/sites/abtest', { attributionDays: days })).status, String(days)).toBe(400)
    expect((await edge.admin<Json>('PATCH', '/sites/abtest', { attributionDays: 30 })).body.attributionDays).toBe(30)
    expect((await edge.admin<Json>('GET', `${S}/workflows/wf_test/tests/test`)).body.attributionDays).toBe(30)
  })

})

describe('conversions', () => {
  it('counts the custom event the site chose as the conversion, in the test report and the overview', async () => {
    const conversions = async () => {
      const report = (await edge.admin<Json>('GET', `${S}/workflows/wf_test/tests/test`)).body
      return report.variants.reduce((n: number, v: Json) => n + v.conversions, 0)
    }
    const purchases = await conversions()
    expect(purchases).toBeGreaterThan(0)
    for (const name of ['sign up', '', 'x'.repeat(65)]) {
      expect((await edge.admin('PATCH', '/sites/abtest', { conversion: { type: 'custom', name } })).status, name).toBe(400)
    }
    const set = await edge.admin<Json>('PATCH', '/sites/abtest', { conversion: { type: 'custom', name: 'signup' } })
    expect(set.body.conversion).toEqual({ type: 'custom', name: 'signup' })
    // Purchases no longer convert: the signups of three contacts shown the test's content do.
    expect(await conversions()).toBe(0)
    for (const [contact, { answer }] of [...seen].slice(0, 3)) {
      await edge.events({ site: KEY, contact, state: answer.state, events: [{ id: eid(), type: 'custom', name: 'signup' }, { id: eid(), type: 'custom', name: 'newsletter' }] })
    }
    await drain()
    expect(await conversions()).toBe(3)
    const cookie = await edge.consoleCookie('192.0.2.212')
    const overview = await (await edge.fetch(`/admin${S}`, { headers: { cookie } })).text()
    expect(overview).toMatch(/value="signup"/)
    expect((await edge.admin<Json>('PATCH', '/sites/abtest', { conversion: { type: 'purchase' } })).body.conversion).toEqual({ type: 'purchase' })
    expect(await conversions()).toBe(purchases)
  })

  it('never shows content marked so again to a visitor who converted after it, across requests and after the queue', async () => {
    await edge.admin('POST', `${S}/content`, { id: 'thanks-offer', name: 'Offer', format: 'bar', title: 'Free shipping today', neverAfterConverted: true })
    await edge.admin('POST', `${S}/workflows`, {
      id: 'wf_offer', name: 'Offer', status: 'active', start: { trigger: { type: 'page_visit', url: { op: 'startsWith', value: `${ORIGIN}/offer` } } },
      entry: 'show', nodes: { show: { type: 'showContent', content: 'thanks-offer' } },
    })
    const ids = (a: EventsAnswer) => a.content.map((c) => c.id)
    const one = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/offer/1`)] })
    expect(ids(one)).toContain('thanks-offer')
    expect(one.content.find((c) => c.id === 'thanks-offer')).not.toHaveProperty('neverAfterConverted')
    const two = await edge.events({ site: KEY, contact: one.contact, state: one.state, events: [pageVisit(`${ORIGIN}/offer/2`)] })
    expect(ids(two)).toContain('thanks-offer')
    const bought = await edge.events({ site: KEY, contact: one.contact, state: two.state, events: [{ id: eid(), type: 'purchase', amount: 9, currency: 'EUR', orderId: 'o-offer' }] })
    await drain()
    // Without the token: the snapshot the queue rebuilt in KV still knows.
    const after = await edge.events({ site: KEY, contact: bought.contact, events: [pageVisit(`${ORIGIN}/offer/3`)] })
    expect(ids(after)).not.toContain('thanks-offer')
  })
})

describe('the console\'s campaign settings', () => {
  it('saves the time zone, fatigue caps and attribution window, and refuses what is not valid beside its field', async () => {
    const cookie = await edge.consoleCookie('192.0.2.211')
    const overview = await (await edge.fetch(`/admin${S}`, { headers: { cookie } })).text()
    expect(overview).toContain('Campaign settings')
    const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(overview)![1]
    const post = (fields: Record<string, string>) =>
      edge.fetch(`/admin${S}/campaigns`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }).toString() })
    const bad = await post({ timeZone: 'Mars/Olympus', perSession: '', perDay: '2', attributionDays: '7' })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('must be an IANA time zone')
    expect((await post({ timeZone: 'Europe/Madrid', perSession: '1', perDay: '', attributionDays: '14' })).status).toBe(303)
    expect((await edge.admin<Json>('GET', '/sites/abtest')).body).toMatchObject({ timeZone: 'Europe/Madrid', fatigue: { perSession: 1, perDay: null }, attributionDays: 14 })
    const badEvent = await post({ timeZone: 'Europe/Madrid', perSession: '1', perDay: '', attributionDays: '14', conversionEvent: 'sign up' })
    expect(badEvent.status).toBe(400)
    expect(await badEvent.text()).toMatch(/id="f-conversionEvent-error"[^>]*>[^<]*must be an event name/)
    expect((await post({ timeZone: 'Europe/Madrid', perSession: '1', perDay: '', attributionDays: '14', conversionEvent: 'signup' })).status).toBe(303)
    expect((await edge.admin<Json>('GET', '/sites/abtest')).body.conversion).toEqual({ type: 'custom', name: 'signup' })
  })
})
