/**
 * `PUT /api/v1/sites/:site/workflows/order`: the owner's order decides which workflow's popup a visitor
 * gets when two would interrupt on one request, at the edge at once; an order that does not name every
 * workflow of the site exactly once is refused and changes nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { Edge, ORIGIN, pageVisit } from './edge-harness'

const edge = new Edge()
const S = '/sites/ord'
const KEY = 'pk_ord_test_key'

const popupFlow = (id: string, content: string) => ({ id, name: id, status: 'active', start: { trigger: { type: 'page_visit' } }, entry: 'a', nodes: { a: { type: 'showContent', content } } })

/** What a new visitor is shown on a page visit. */
const shown = async () => (await edge.events({ site: KEY, events: [pageVisit()] })).content.map((c) => c.id)

/** The site's workflows as the API lists them: in the order they run. */
const listed = async () => (await edge.admin<{ items: Array<{ id: string; priority: number; updatedAt: string }> }>('GET', `${S}/workflows`)).body.items

beforeAll(async () => {
  await edge.admin('POST', '/sites', { id: 'ord', key: KEY, name: 'Order', allowedOrigins: [ORIGIN] })
  await edge.admin('POST', '/sites', { id: 'ord_other', key: 'pk_ord_other_key', name: 'Other', allowedOrigins: [ORIGIN] })
  for (const id of ['rock', 'jazz']) await edge.admin('POST', `${S}/content`, { id, name: id, format: 'popup', title: `${id} album` })
  await edge.admin('POST', `${S}/content`, { id: 'news', name: 'News', format: 'bar', title: 'Free shipping' })
  await edge.admin('POST', '/sites/ord_other/content', { id: 'other', name: 'Other', format: 'bar', title: 'Other' })
  for (const w of [popupFlow('wf_rock', 'rock'), popupFlow('wf_jazz', 'jazz'), popupFlow('wf_news', 'news')]) expect((await edge.admin('POST', `${S}/workflows`, w)).status).toBe(201)
  expect((await edge.admin('POST', '/sites/ord_other/workflows', popupFlow('wf_elsewhere', 'other'))).status).toBe(201)
})

describe('putting workflows in order', () => {
  it('changes which workflow\'s popup a visitor gets on the very next visit, the bar showing either way', async () => {
    expect(await shown()).toEqual(['rock', 'news'])
    const res = await edge.admin('PUT', `${S}/workflows/order`, { ids: ['wf_news', 'wf_jazz', 'wf_rock'] })
    expect(res.status).toBe(200)
    expect(res.body.items.map((w: { id: string; priority: number }) => [w.id, w.priority])).toEqual([['wf_news', 0], ['wf_jazz', 1], ['wf_rock', 2]])
    expect((await listed()).map((w) => w.id)).toEqual(['wf_news', 'wf_jazz', 'wf_rock'])
    expect(await shown()).toEqual(['news', 'jazz'])
  })

  it('puts a workflow made after a reorder last', async () => {
    expect((await edge.admin('POST', `${S}/workflows`, popupFlow('wf_late', 'rock'))).status).toBe(201)
    expect((await listed()).map((w) => w.id)).toEqual(['wf_news', 'wf_jazz', 'wf_rock', 'wf_late'])
    expect(await shown()).toEqual(['news', 'jazz'])
  })

  it.each([
    ['an unknown id', ['wf_news', 'wf_jazz', 'wf_rock', 'wf_late', 'wf_nope'], /ids\[4\]: no workflow "wf_nope"/],
    ['another site\'s workflow', ['wf_news', 'wf_rock', 'wf_jazz', 'wf_elsewhere', 'wf_late'], /ids\[3\]: no workflow "wf_elsewhere"/],
    ['a workflow left out', ['wf_rock', 'wf_jazz', 'wf_news'], /leaves out "wf_late"/],
    ['a workflow named twice', ['wf_rock', 'wf_rock', 'wf_jazz', 'wf_news', 'wf_late'], /ids\[1\]: "wf_rock" is named more than once/],
  ])('refuses an order with %s, and nothing changes', async (_, ids, message) => {
    const before = await listed()
    const res = await edge.admin('PUT', `${S}/workflows/order`, { ids })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'invalid_order', field: 'ids', message: expect.stringMatching(message) })
    expect(await listed()).toEqual(before)
    expect(await shown()).toEqual(['news', 'jazz'])
  })

  it.each([
    ['no ids', {}],
    ['an empty list', { ids: [] }],
    ['ids that are not a list', { ids: 'wf_rock,wf_jazz' }],
    ['a field it does not know', { ids: ['wf_rock', 'wf_jazz', 'wf_news', 'wf_late'], priority: 0 }],
  ])('refuses a body with %s in the API\'s error shape, and nothing changes', async (_, body) => {
    const before = await listed()
    const res = await edge.admin('PUT', `${S}/workflows/order`, body)
    expect(res.status).toBe(400)
    expect(res.body.error).toEqual(expect.objectContaining({ code: 'invalid_request', message: expect.any(String) }))
    expect(await listed()).toEqual(before)
  })

  it('leaves the workflows whose place did not change as they were', async () => {
    const before = new Map((await listed()).map((w) => [w.id, w]))
    await new Promise((r) => setTimeout(r, 5))
    const res = await edge.admin('PUT', `${S}/workflows/order`, { ids: ['wf_news', 'wf_rock', 'wf_jazz', 'wf_late'] })
    expect(res.status).toBe(200)
    const after = new Map((await listed()).map((w) => [w.id, w]))
    expect(after.get('wf_news')).toEqual(before.get('wf_news'))
    expect(after.get('wf_rock')!.updatedAt > before.get('wf_rock')!.updatedAt).toBe(true)
    expect(await shown()).toEqual(['news', 'rock'])
  })
})
