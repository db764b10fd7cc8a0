/**
 * The admin API's content and workflows: sanitized bodies, graphs refused naming the node at fault, and
 * what a workflow uses kept from deletion; then the cron moving contacts out of a time window, and page
 * visit triggers matching URLs at the edge.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { Edge, ORIGIN, pageVisit } from './edge-harness'
import { insertContacts } from '../../worker/data/contacts'
import { dataOf } from './fixtures'

const edge = new Edge()
const S = '/sites/cw'

beforeAll(async () => {
  await edge.admin('POST', '/sites', { id: 'cw', key: 'pk_cw_test_key', name: 'CW', allowedOrigins: [ORIGIN], fields: [{ key: 'plan', type: 'string' }] })
  await edge.admin('POST', `${S}/segments`, { id: 'seg_static', name: 'Static', type: 'static' })
  await edge.admin('POST', `${S}/segments`, { id: 'seg_dyn', name: 'Dynamic', type: 'dynamic', conditions: { all: [{ field: 'plan', op: 'eq', value: 'pro' }] } })
})

describe('content', () => {
  it('creates a popup with defaults and a sanitized body', async () => {
    const res = await edge.admin('POST', `${S}/content`, {
      id: 'promo',
      name: 'Promo',
      format: 'popup',
      title: 'Hello <b>there</b>',
      body: '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:evil()">no</a> <a href="https://shop.example/">yes</a></p><img src="https://cdn.example/a.png" onerror="x()">',
      cta: { label: 'Shop', url: 'https://shop.example/sale' },
      display: { on: 'scroll', percent: 50 },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      id: 'promo',
      format: 'popup',
      position: 'center',
      backdropCloses: true,
      title: 'Hello <b>there</b>',
      body: '<p>Hi <a>no</a> <a href="https://shop.example/" rel="noopener noreferrer">yes</a></p><img src="https://cdn.example/a.png" alt="">',
      display: { on: 'scroll', percent: 50 },
    })
  })

  it('keeps URLs as the URL parser writes them, which the SDK renders as they are', async () => {
    const created = await edge.admin('POST', `${S}/content`, {
      id: 'urls',
      name: 'URLs',
      format: 'popup',
      image: ' HTTPS://CDN.Example/a/../summer sale.png ',
      cta: { label: ' Shop ', url: 'HTTP://Shop.Example:443/sale/../deals?x#frag' },
    })
    expect(created.status).toBe(201)
    await edge.admin('PATCH', `${S}/content/urls`, { body: '<a href="mailto:Hi@Shop.Example?subject=a b">Mail</a>' })
    const stored = (await edge.admin('GET', `${S}/content/urls`)).body
    expect(stored).toMatchObject({
      image: 'https://cdn.example/summer%20sale.png',
      cta: { label: 'Shop', url: 'http://shop.example:443/deals?x#frag' },
      body: '<a href="mailto:Hi@Shop.Example?subject=a%20b" rel="noopener noreferrer">Mail</a>',
    })
    for (const url of [stored.image, stored.cta.url]) expect(new URL(url).href).toBe(url)
  })

  it('lists, reads, updates and deletes content', async () => {
    await edge.admin('POST', `${S}/content`, { id: 'bar1', name: 'Bar', format: 'bar', title: 'Free shipping' })
    expect((await edge.admin('GET', `${S}/content`)).body.items.map((c: { id: string }) => c.id)).toContain('bar1')
    const updated = await edge.admin('PATCH', `${S}/content/bar1`, { position: 'bottom', display: { on: 'delay', ms: 3000 } })
    expect(updated.body).toMatchObject({ format: 'bar', position: 'bottom', title: 'Free shipping', display: { on: 'delay', ms: 3000 } })
    expect((await edge.admin('DELETE', `${S}/content/bar1`)).status).toBe(204)
    expect((await edge.admin('GET', `${S}/content/bar1`)).status).toBe(404)
  })

  it('places inline blocks with a selector and placement', async () => {
    const res = await edge.admin('POST', `${S}/content`, { name: 'Inline', format: 'inline', selector: '#hero', placement: 'after', body: '<p>Below the hero</p>' })
    expect(res.body).toMatchObject({ format: 'inline', selector: '#hero', placement: 'after' })
    expect(res.body.position).toBeUndefined()
  })

  it.each([
    ['an inline block without a selector', { name: 'x', format: 'inline', title: 't' }],
    ['a bar in the middle', { name: 'x', format: 'bar', position: 'center', title: 't' }],
    ['an image that is not http(s)', { name: 'x', format: 'popup', image: 'javascript:alert(1)' }],
    ['a call to action to a javascript: URL', { name: 'x', format: 'popup', cta: { label: 'Go', url: 'javascript:alert(1)' } }],
    ['a call to action whose host holds a space', { name: 'x', format: 'popup', cta: { label: 'Go', url: 'http://a b.example/' } }],
    ['an image whose host holds a space', { name: 'x', format: 'popup', image: 'https://cdn .example/a.png' }],
    ['a call to action with a newline inside', { name: 'x', format: 'popup', cta: { label: 'Go', url: 'https://shop.example/\nsale' } }],
    ['content with nothing to show', { name: 'x', format: 'popup' }],
    ['an unknown format', { name: 'x', format: 'modal', title: 't' }],
    ['a delay without milliseconds', { name: 'x', format: 'popup', title: 't', display: { on: 'delay' } }],
  ])('refuses %s', async (_name, body) => {
    const res = await edge.admin('POST', `${S}/content`, body)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBeTypeOf('string')
  })
})

const show = (content: string) => ({ type: 'showContent', content })

describe('workflows', () => {
  beforeAll(async () => {
    await edge.admin('POST', `${S}/content`, { id: 'welcome', name: 'Welcome', format: 'slide-in', title: 'Welcome back' })
  })

  it('creates a paused workflow, activates and pauses it', async () => {
    const created = await edge.admin('POST', `${S}/workflows`, { id: 'wf_welcome', name: 'Welcome', start: { trigger: { type: 'page_visit' } }, entry: 'a', nodes: { a: show('welcome') } })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ status: 'paused', start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'a' })
    expect((await edge.admin('POST', `${S}/workflows/wf_welcome/activate`)).body.status).toBe('active')
    expect((await edge.admin('GET', `${S}/workflows`)).body.items.map((w: { id: string; status: string }) => [w.id, w.status])).toEqual([['wf_welcome', 'active']])
    expect((await edge.admin('POST', `${S}/workflows/wf_welcome/pause`)).body.status).toBe('paused')
  })

  it.each([
    ['a missing entry node', { entry: 'zz', nodes: { a: show('welcome') } }, 'start'],
    ['a branch to a node that does not exist', { entry: 'a', nodes: { a: { type: 'isInSegment', segment: 'seg_dyn', yes: 'b', no: 'ghost' }, b: show('welcome') } }, 'a'],
    ['a loop', { entry: 'a', nodes: { a: { type: 'hasField', field: 'plan', yes: 'b' }, b: { type: 'setField', field: 'plan', value: 'pro', next: 'a' } } }, 'a'],
    ['content that does not exist', { entry: 'a', nodes: { a: show('ghost') } }, 'a'],
    ['a segment that does not exist', { entry: 'a', nodes: { a: { type: 'isInSegment', segment: 'seg_ghost' } } }, 'a'],
    ['adding to a dynamic segment', { entry: 'a', nodes: { a: { type: 'addToSegment', segment: 'seg_dyn' } } }, 'a'],
    ['removing from a dynamic segment', { entry: 'a', nodes: { a: { type: 'removeFromSegment', segment: 'seg_dyn' } } }, 'a'],
    ['a node nothing leads to', { entry: 'a', nodes: { a: show('welcome'), b: show('welcome') } }, 'b'],
    ['a check on an unknown field', { entry: 'a', nodes: { a: { type: 'checkField', field: 'shoeSize', op: 'gt', value: 40 } } }, 'a'],
    ['a check that cannot match its field', { entry: 'a', nodes: { a: { type: 'checkField', field: 'birthDate', op: 'contains', value: '19' } } }, 'a'],
    ['setting a field to the wrong type', { entry: 'a', nodes: { a: { type: 'setField', field: 'birthDate', value: 'soon' } } }, 'a'],
    ['setting a read-only field', { entry: 'a', nodes: { a: { type: 'setField', field: 'createdAt', value: 1 } } }, 'a'],
    ['a test branch to a node that does not exist', { entry: 'a', nodes: { a: { type: 'abTest', variants: [{ id: 'x', weight: 1, next: 'b' }, { id: 'y', weight: 1, next: 'ghost' }] }, b: show('welcome') } }, 'a'],
  ])('refuses %s, naming the node at fault', async (_name, graph, node) => {
    const res = await edge.admin('POST', `${S}/workflows`, { name: 'Broken', start: { trigger: { type: 'page_visit' } }, ...graph })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'invalid_workflow', node })
    expect(res.body.error.message).toContain(node === 'start' ? 'Start node' : `Node "${node}"`)
  })

  it('refuses a Start node limited to a segment that does not exist', async () => {
    const res = await edge.admin('POST', `${S}/workflows`, { name: 'Broken', start: { trigger: { type: 'page_visit' }, limitation: { segment: 'seg_ghost' } }, entry: 'a', nodes: { a: show('welcome') } })
    expect(res.body.error.node).toBe('start')
  })

  it('refuses an unknown trigger or node type', async () => {
    expect((await edge.admin('POST', `${S}/workflows`, { name: 'x', start: { trigger: { type: 'sunrise' } }, entry: 'a', nodes: { a: show('welcome') } })).status).toBe(400)
    expect((await edge.admin('POST', `${S}/workflows`, { name: 'x', start: { trigger: { type: 'page_visit' } }, entry: 'a', nodes: { a: { type: 'sendEmail' } } })).status).toBe(400)
  })

  it('takes an A/B test and a split, and refuses one branch, six, two of the same id, a zero weight or a winner not among them', async () => {
    const test = { type: 'abTest', variants: [{ id: 'a', weight: 1, next: 'b' }, { id: 'b', name: 'Bigger title', weight: 2 }] }
    const made = await edge.admin('POST', `${S}/workflows`, { id: 'wf_ab', name: 'A/B', start: { trigger: { type: 'page_visit' } }, entry: 't', nodes: { t: test, b: show('welcome') } })
    expect(made.status).toBe(201)
    expect(made.body.nodes.t).toEqual(test)
    const split = await edge.admin('POST', `${S}/workflows`, { name: 'Roll-out', start: { trigger: { type: 'page_visit' } }, entry: 't', nodes: { t: { type: 'split', branches: [{ id: 'hold', weight: 9 }, { id: 'on', weight: 1, next: 'b' }] }, b: show('welcome') } })
    expect(split.status).toBe(201)
    const variant = (id: string, weight = 1) => ({ id, weight })
    for (const variants of [[variant('a')], ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => variant(id)), [variant('a'), variant('a')], [variant('a'), variant('b', 0)]]) {
      const res = await edge.admin('POST', `${S}/workflows`, { name: 'x', start: { trigger: { type: 'page_visit' } }, entry: 't', nodes: { t: { type: 'abTest', variants } } })
      expect(res.status, JSON.stringify(variants)).toBe(400)
      expect(res.body.error.code).toBe('invalid_request')
    }
    const winner = await edge.admin('PATCH', `${S}/workflows/wf_ab`, { nodes: { t: { ...test, winner: 'c' }, b: show('welcome') } })
    expect(winner.status).toBe(400)
    expect((await edge.admin('PATCH', `${S}/workflows/wf_ab`, { nodes: { t: { ...test, winner: 'b' }, b: show('welcome') } })).body.nodes.t.winner).toBe('b')
  })

  it('runs workflows in the order of their priority: a new one last unless given, changed by a patch', async () => {
    const order = async () => (await edge.admin('GET', `${S}/workflows`)).body.items.map((w: { id: string }) => w.id)
    const before = await order()
    const last = await edge.admin('POST', `${S}/workflows`, { id: 'wf_last', name: 'Last', start: { trigger: { type: 'page_visit' } }, entry: 'a', nodes: { a: show('welcome') } })
    expect(await order()).toEqual([...before, 'wf_last'])
    expect(last.body.priority).toBeGreaterThan(0)
    expect((await edge.admin('PATCH', `${S}/workflows/${before[0]}`, { priority: 1000 })).body.priority).toBe(1000)
    expect(await order()).toEqual([...before.slice(1), 'wf_last', before[0]])
    expect((await edge.admin('PATCH', `${S}/workflows/wf_last`, { priority: -1 })).status).toBe(400)
  })

  it('keeps a site\'s time zone, and a workflow\'s and content\'s schedule; refuses what is not an IANA zone or a schedule', async () => {
    expect((await edge.admin('PATCH', '/sites/cw', { timeZone: 'Europe/Madrid' })).body.timeZone).toBe('Europe/Madrid')
    for (const timeZone of ['+02:00', 'Local', 'Mars/Olympus']) expect((await edge.admin('PATCH', '/sites/cw', { timeZone })).status, timeZone).toBe(400)
    const schedule = { start: '2026-12-01', end: '2027-01-07T00:00', weekly: [{ days: ['fri', 'sat'], from: '18:00', to: '02:00' }] }
    const made = await edge.admin('POST', `${S}/workflows`, { name: 'Sale nights', start: { trigger: { type: 'page_visit' }, schedule }, entry: 'a', nodes: { a: show('welcome') } })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    expect(made.body.start.schedule).toEqual(schedule)
    const content = await edge.admin('POST', `${S}/content`, { name: 'Xmas', format: 'bar', title: 'Xmas', schedule: { end: '2026-12-26' } })
    expect(content.body.schedule).toEqual({ end: '2026-12-26' })
    for (const bad of [{ start: '2026-12-01', end: '2026-11-01' }, { weekly: [{ days: ['someday'], from: '10:00', to: '11:00' }] }, { start: '2026-13-01' }]) {
      expect((await edge.admin('POST', `${S}/workflows`, { name: 'x', start: { trigger: { type: 'page_visit' }, schedule: bad }, entry: 'a', nodes: { a: show('welcome') } })).status, JSON.stringify(bad)).toBe(400)
    }
  })

  it('keeps segments and content a workflow uses from being deleted', async () => {
    await edge.admin('POST', `${S}/workflows`, { id: 'wf_uses', name: 'Uses things', start: { trigger: { type: 'page_visit' } }, entry: 'a', nodes: { a: { type: 'isInSegment', segment: 'seg_static', yes: 'b' }, b: show('welcome') } })
    const seg = await edge.admin('DELETE', `${S}/segments/seg_static`)
    expect(seg.status).toBe(409)
    expect(seg.body.error.message).toContain('Uses things')
    expect((await edge.admin('DELETE', `${S}/content/welcome`)).status).toBe(409)
    expect((await edge.admin('DELETE', `${S}/workflows/wf_uses`)).status).toBe(204)
    expect((await edge.admin('DELETE', `${S}/segments/seg_static`)).status).toBe(204)
  })
})

/** Keeps on the queue only the scheduled pass's message for one site (the pass names every site). */
function onlySite(siteId: string) {
  edge.queue.splice(0, edge.queue.length, ...edge.queue.filter((m) => m.kind === 'cron' && m.siteId === siteId))
}

describe('the scheduled pass', () => {
  it('moves contacts out of a time-window segment as time passes, and refreshes their snapshots', async () => {
    await edge.admin('POST', '/sites', { id: 'timed', key: 'pk_timed_test', name: 'Timed', allowedOrigins: [ORIGIN] })
    await edge.admin('POST', '/sites/timed/segments', { id: 'seg_recent', name: 'Recent visitors', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', within: '7d' }] } })
    await edge.admin('POST', '/sites/timed/contacts', { id: 'old-visitor' })
    await edge.admin('POST', '/sites/timed/contacts/old-visitor/events', { events: [{ id: 'v-old', type: 'page_visit', url: `${ORIGIN}/`, at: new Date(Date.now() - 6.9 * 86_400_000).toISOString() }] })
    expect((await edge.admin('GET', '/sites/timed/segments/seg_recent')).body.members).toBe(1)
    edge.queue.splice(0)
    const { runScheduled } = await import('../../worker/background/cron')
    const later = Date.now() + 86_400_000
    const { sites } = await runScheduled(edge.env, later)
    expect(sites).toBeGreaterThanOrEqual(1)
    // The pass hands each site to the queue, where its share of the work is done.
    onlySite('timed')
    expect(edge.queue).toEqual([{ kind: 'cron', siteId: 'timed', at: later }])
    await edge.flush()
    expect((await edge.admin('GET', '/sites/timed/segments/seg_recent')).body.members).toBe(0)
    expect(edge.queue).toEqual([{ kind: 'refresh', siteId: 'timed', contactIds: ['old-visitor'] }])
    await edge.flush()
    const snapshot = await env.KV.get<{ m: Record<string, number> }>('contact:timed:old-visitor', 'json')
    expect(snapshot?.m).toEqual({})
  })
})

describe('the scheduled pass over a big site', () => {
  it('refreshes every contact that moved, in as many queue sends as the queue\'s limits need', async () => {
    const now = Date.now()
    // Spread over both shards, so the pass has every shard's share to find.
    await edge.admin('POST', '/sites', { id: 'bigtimed', key: 'pk_bigtimed_test', name: 'Big timed', allowedOrigins: [ORIGIN], shards: 2 })
    const ids = Array.from({ length: 10_050 }, (_, i) => `c${String(i).padStart(5, '0')}`)
    for (const [{ db }, list] of (await dataOf('bigtimed')).group(ids, (id) => id)) {
      await db.batch(insertContacts(db, 'bigtimed', list.map((id) => ({ id, fields: {} })), now - 60_000))
    }
    await edge.admin('POST', '/sites/bigtimed/segments', { id: 'seg_new', name: 'New this week', type: 'dynamic', conditions: { all: [{ field: 'createdAt', op: 'withinLast', value: '7d' }] } })
    expect((await edge.admin('GET', '/sites/bigtimed/segments/seg_new')).body.members).toBe(10_050)
    edge.queue.splice(0)
    const { runScheduled } = await import('../../worker/background/cron')
    await runScheduled(edge.env, now + 8 * 86_400_000)
    onlySite('bigtimed')
    await edge.flush()
    expect((await edge.admin('GET', '/sites/bigtimed/segments/seg_new')).body.members).toBe(0)
    const refreshed = edge.queue.flatMap((m) => (m.kind === 'refresh' && m.siteId === 'bigtimed' ? m.contactIds : []))
    expect(refreshed.sort()).toEqual(ids)
    edge.queue.splice(0)
  }, 60_000)
})

describe('the edge and pages', () => {
  it('serves the page visit trigger only on matching URLs and not on excluded ones', async () => {
    await edge.admin('POST', `${S}/workflows`, {
      name: 'Sale',
      status: 'active',
      start: { trigger: { type: 'page_visit', url: { op: 'startsWith', value: `${ORIGIN}/sale` }, exclude: [{ op: 'contains', value: '/checkout' }] } },
      entry: 'a',
      nodes: { a: show('promo') },
    })
    const ids = async (url: string) => (await edge.events({ site: 'pk_cw_test_key', events: [pageVisit(url)] })).content.map((c) => c.id)
    expect(await ids(`${ORIGIN}/sale/shoes`)).toEqual(['promo'])
    expect(await ids(`${ORIGIN}/SALE/shoes`)).toEqual(['promo'])
    expect(await ids(`${ORIGIN}/sale/checkout`)).toEqual([])
    expect(await ids(`${ORIGIN}/about`)).toEqual([])
  })

  it('tells a phone, a tablet and a desktop apart, from the User-Agent or client hints, for the trigger and the Check Device node', async () => {
    await edge.admin('POST', `${S}/content`, { id: 'app-banner', name: 'App banner', format: 'bar', title: 'Get the app' })
    await edge.admin('POST', `${S}/content`, { id: 'tablet-note', name: 'Tablet note', format: 'inline', selector: '#main', title: 'Rotate for more' })
    const made = await edge.admin('POST', `${S}/workflows`, {
      name: 'Devices',
      status: 'active',
      start: { trigger: { type: 'page_visit', url: { op: 'contains', value: '/devices' }, devices: ['mobile', 'tablet'] } },
      entry: 'which',
      nodes: { which: { type: 'checkDevice', devices: ['mobile'], yes: 'banner', no: 'note' }, banner: show('app-banner'), note: show('tablet-note') },
    })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    const UA = {
      iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      galaxyTab: 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      windows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    }
    const ids = async (headers: Record<string, string>) => {
      const res = await edge.fetch('/v1/events', { method: 'POST', headers: { 'content-type': 'text/plain', origin: ORIGIN, ...headers }, body: JSON.stringify({ site: 'pk_cw_test_key', events: [pageVisit(`${ORIGIN}/devices`)] }) })
      return ((await res.json()) as { content: Array<{ id: string }> }).content.map((c) => c.id)
    }
    expect(await ids({ 'user-agent': UA.iphone })).toEqual(['app-banner'])
    expect(await ids({ 'user-agent': UA.galaxyTab })).toEqual(['tablet-note'])
    expect(await ids({ 'user-agent': UA.windows })).toEqual([])
    // A phone whose Chrome says so with a client hint, whatever its User-Agent reduced to.
    expect(await ids({ 'user-agent': 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'sec-ch-ua-mobile': '?1' })).toEqual(['app-banner'])
    expect((await edge.admin('POST', `${S}/workflows`, { name: 'x', start: { trigger: { type: 'page_visit', devices: ['watch'] } }, entry: 'a', nodes: { a: show('promo') } })).status).toBe(400)
  })
})
