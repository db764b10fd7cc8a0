/**
 * The builder's live view: how many contacts entered a workflow, reached each node and left it by each
 * branch, over the last 7 and 30 days, counted once per contact however often it passed, across shards.
 * The counts are estimates (worker/reports/distinct.ts): within a contact or two of the truth here.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { notePasses } from '../../worker/data/flow'
import { pruneSite } from '../../worker/background/retention'
import { getSite } from '../../worker/data/sites'
import { registerOf } from '../../worker/reports/distinct'
import { env } from 'cloudflare:workers'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'
import { Usage, instrumented } from './instrumented'
import { database } from '../../worker/data/shards'
import { workflowFlow } from '../../worker/workflows/flow'
import { dataOf, rowsOf } from './fixtures'

const edge = new Edge()
const S = '/sites/flow'
const KEY = 'pk_flow_key_1'
const DAY = 86_400_000

type Json = Record<string, any>

/** Figures of the live view, each within 2 contacts of `n` (and 0 exactly when none passed). */
const near = (last7: number, last30 = last7) => ({
  last7: n(last7),
  last30: n(last30),
})
// Linear counting over 1,024 registers: contacts that share a register are corrected for on average, so
// with visitors' random ids a count of 42 lands within 2 about 99 times in 100 and within 10 % (4) nearly always.
const n = (x: number) => {
  const within = Math.max(2, Math.ceil(x * 0.1))
  return x === 0 ? 0 : expect.toSatisfy((got: number) => Math.abs(got - x) <= within, `within ${within} of ${x}`)
}

beforeAll(async () => {
  await edge.admin('POST', '/sites', { id: 'flow', key: KEY, name: 'Flow', allowedOrigins: [ORIGIN], shards: 2 })
  const segment = await edge.admin('POST', `${S}/segments`, { id: 'seg_buyers', name: 'Buyers', type: 'dynamic', conditions: { all: [{ activity: 'purchase', count: { op: 'gte', value: 1 } }] } })
  expect(segment.status, JSON.stringify(segment.body)).toBe(201)
  for (const id of ['thanks', 'offer']) await edge.admin('POST', `${S}/content`, { id, name: id, format: 'bar', title: id })
  const made = await edge.admin('POST', `${S}/workflows`, {
    id: 'wf_flow',
    name: 'Flow',
    status: 'active',
    start: { trigger: { type: 'page_visit', url: { op: 'startsWith', value: `${ORIGIN}/shop` } } },
    entry: 'buyer',
    nodes: {
      buyer: { type: 'isInSegment', segment: 'seg_buyers', yes: 'thanks', no: 'split' },
      thanks: { type: 'showContent', content: 'thanks' },
      split: { type: 'split', branches: [{ id: 'offer', weight: 1, next: 'offer' }, { id: 'holdout', weight: 1 }] },
      offer: { type: 'showContent', content: 'offer' },
    },
  })
  expect(made.status, JSON.stringify(made.body)).toBe(201)
})

const drain = async () => {
  while (edge.queue.length > 0) await edge.flush()
}

describe('a workflow\'s live view', () => {
  it('counts each contact once per node and branch, however many times it passed', async () => {
    let offers = 0
    for (let i = 0; i < 30; i++) {
      const buyer = i < 10
      const first = await edge.events({ site: KEY, events: buyer ? [{ id: eid(), type: 'purchase', amount: 5, currency: 'EUR', orderId: `o${i}` }, pageVisit(`${ORIGIN}/shop/${i}`)] : [pageVisit(`${ORIGIN}/shop/${i}`)] })
      if (first.content.some((c) => c.id === 'offer')) offers++
      // A second and a third visit of the same contact, and a page outside the workflow's URL.
      const again = await edge.events({ site: KEY, contact: first.contact, state: first.state, events: [pageVisit(`${ORIGIN}/shop/again`), pageVisit(`${ORIGIN}/about`)] })
      await edge.events({ site: KEY, contact: again.contact, state: again.state, events: [pageVisit(`${ORIGIN}/shop/third`)] })
    }
    await drain()
    const flow = await edge.admin<Json>('GET', `${S}/workflows/wf_flow/flow`)
    expect(flow.status, JSON.stringify(flow.body)).toBe(200)
    const both = (x: number) => near(x)
    expect(flow.body.start).toEqual(both(30))
    expect(flow.body.nodes.buyer).toEqual({ ...both(30), branches: { yes: both(10), no: both(20) } })
    expect(flow.body.nodes.thanks).toEqual({ ...both(10), branches: { next: both(10) } })
    expect(flow.body.nodes.split).toEqual({ ...both(20), branches: { offer: both(offers), holdout: both(20 - offers) } })
    expect(flow.body.nodes.offer).toEqual({ ...both(offers), branches: offers > 0 ? { next: both(offers) } : {} })
    expect(offers).toBeGreaterThan(0)
    expect(offers).toBeLessThan(20)
  })

  it('keeps contacts of 8 to 30 days ago in the 30-day count only, and prunes what is older', async () => {
    const data = await dataOf('flow')
    const today = Math.floor(Date.now() / DAY)
    const old = Array.from({ length: 12 }, (_, i) => `c_old_${i}`)
    // Twelve contacts that entered 10 days ago, two of them again 40 days ago (past what is kept).
    for (const id of old) await notePasses(data.of(id), 'flow', today - 10, registerOf(id), [['wf_flow', '', '']]).run()
    for (const id of old.slice(0, 2)) await notePasses(data.of(id), 'flow', today - 40, registerOf(id), [['wf_flow', '', ''], ['wf_flow', 'buyer', '']]).run()
    const flow = (await edge.admin<Json>('GET', `${S}/workflows/wf_flow/flow`)).body
    expect(flow.start).toEqual(near(30, 42))
    expect(flow.nodes.buyer).toMatchObject(near(30, 30))
    await pruneSite(env, (await getSite(env.DB, 'flow'))!, Date.now())
    const left = await rowsOf<{ n: number }>('flow', 'SELECT count(*) AS n FROM node_registers WHERE site_id = ?1 AND day < ?2', 'flow', today - 30)
    expect(left[0].n).toBe(0)
    expect((await edge.admin<Json>('GET', `${S}/workflows/wf_flow/flow`)).body.start).toEqual(flow.start)
  })

  it('does not count a run undone because another workflow showed a popup first', async () => {
    await edge.admin('POST', `${S}/content`, { id: 'pop-1', name: 'Pop 1', format: 'popup', title: 'One' })
    await edge.admin('POST', `${S}/content`, { id: 'pop-2', name: 'Pop 2', format: 'popup', title: 'Two' })
    for (const [id, content] of [['wf_pop_1', 'pop-1'], ['wf_pop_2', 'pop-2']]) {
      await edge.admin('POST', `${S}/workflows`, { id, name: id, status: 'active', start: { trigger: { type: 'page_visit', url: { op: 'startsWith', value: `${ORIGIN}/pop` } } }, entry: 'show', nodes: { show: { type: 'showContent', content } } })
    }
    for (let i = 0; i < 4; i++) await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/pop/${i}`)] })
    await drain()
    expect((await edge.admin<Json>('GET', `${S}/workflows/wf_pop_1/flow`)).body.nodes.show).toMatchObject(near(4))
    expect((await edge.admin<Json>('GET', `${S}/workflows/wf_pop_2/flow`)).body).toMatchObject({ start: { last7: 0 }, nodes: { show: { last7: 0, branches: {} } } })
    expect((await edge.admin('GET', `${S}/workflows/wf_nope/flow`)).status).toBe(404)
  })

  it('reads one workflow\'s days by the primary key, and prunes by day through its index', async () => {
    const usage = new Usage()
    const counted = instrumented(env, usage)
    const site = (await getSite(env.DB, 'flow'))!
    await workflowFlow(counted, site, 'wf_flow')
    await pruneSite(counted, site, Date.now())
    const ran = usage.statements.filter((s) => /node_registers/.test(s.sql))
    expect(ran.length).toBeGreaterThanOrEqual(4) // a read and a prune on each of the two shards
    for (const s of ran) {
      const { results } = await database(env, s.database).prepare(`EXPLAIN QUERY PLAN ${s.sql}`).bind(...s.args).all<{ detail: string }>()
      const plan = results.map((r) => r.detail).filter((d) => /node_registers/.test(d))
      expect(plan.length, s.sql).toBeGreaterThan(0)
      for (const line of plan) {
        expect(line, s.sql).toMatch(/^SEARCH node_registers USING (PRIMARY KEY \(site_id=\? AND workflow_id=\? AND day>\? AND day<\?\)|(COVERING )?INDEX node_registers_day \(site_id=\? AND day<\?\)|PRIMARY KEY \(site_id=\? AND workflow_id=\? AND day=\? AND node=\? AND branch=\? AND register=\?\))/)
      }
    }
  })

  it("gives the console's canvas the same counts as the API for a saved workflow, and none for a new one", async () => {
    const cookie = await edge.consoleCookie('192.0.2.231')
    const pageData = (html: string) => JSON.parse(/<script type="application\/json" id="workflow-data">(.*?)<\/script>/s.exec(html)![1])
    const data = pageData(await (await edge.fetch(`/admin${S}/workflows/wf_flow`, { headers: { cookie } })).text())
    const api = (await edge.admin<Json>('GET', `${S}/workflows/wf_flow/flow`)).body
    expect(data.flow).toEqual({ workflow: 'wf_flow', start: api.start, nodes: api.nodes })
    expect(api.start.last30).toBeGreaterThan(0)
    const fresh = pageData(await (await edge.fetch(`/admin${S}/workflows/new`, { headers: { cookie } })).text())
    expect(fresh.flow).toBeNull()
  })
})

