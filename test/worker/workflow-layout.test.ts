/**
 * Where the console's canvas draws a workflow's nodes (`layout`): kept with the workflow through the API
 * and the console's save, refused when it places a node the workflow does not have, trimmed when nodes
 * go, and never published to the edge (looks only). The console's save also takes the workflow's status,
 * for "Save and activate".
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { configKey } from '../../worker/background/publish'
import { Edge, ORIGIN, contentIds, pageVisit } from './edge-harness'

const edge = new Edge()
const S = '/sites/lay'
const KEY = 'pk_lay_test_key'

const album = {
  id: 'wf_album',
  name: 'Album',
  status: 'active',
  start: { trigger: { type: 'page_visit' } },
  entry: 'segment',
  nodes: {
    segment: { type: 'isInSegment', segment: 'seg_fans', yes: 'rock', no: 'jazz' },
    rock: { type: 'showContent', content: 'rock' },
    jazz: { type: 'showContent', content: 'jazz' },
  },
  layout: { start: { x: 0, y: 0 }, segment: { x: 300, y: 0 }, rock: { x: 600, y: -80 }, jazz: { x: 600, y: 80.5 } },
}

beforeAll(async () => {
  await edge.admin('POST', '/sites', { id: 'lay', key: KEY, name: 'Layout', allowedOrigins: [ORIGIN] })
  await edge.admin('POST', `${S}/segments`, { id: 'seg_fans', name: 'Fans', type: 'static' })
  for (const id of ['rock', 'jazz']) await edge.admin('POST', `${S}/content`, { id, name: id, format: 'popup', title: `${id} album` })
  expect((await edge.admin('POST', `${S}/workflows`, album)).status).toBe(201)
})

describe("a workflow's layout", () => {
  it('is kept as sent and read back, and the edge decides as before without it', async () => {
    const { body } = await edge.admin('GET', `${S}/workflows/wf_album`)
    expect(body.layout).toEqual(album.layout)
    const config = await env.KV.get(configKey(KEY))
    expect(config).toContain('"wf_album"')
    expect(config).not.toContain('"layout"')
    expect(contentIds(await edge.events({ site: KEY, events: [pageVisit()] }))).toEqual(['jazz'])
  })

  it('refuses a place for a node the workflow does not have, naming it, and changes nothing', async () => {
    const res = await edge.admin('PATCH', `${S}/workflows/wf_album`, { layout: { ...album.layout, ghost: { x: 1, y: 1 } } })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'invalid_workflow', node: 'ghost', message: expect.stringContaining('"ghost"') })
    const far = await edge.admin('PATCH', `${S}/workflows/wf_album`, { layout: { start: { x: 1e9, y: 0 } } })
    expect(far.status).toBe(400)
    expect((await edge.admin('GET', `${S}/workflows/wf_album`)).body.layout).toEqual(album.layout)
  })

  it("refuses a node called 'start', the Start node's name on the canvas", async () => {
    const res = await edge.admin('POST', `${S}/workflows`, { ...album, id: 'wf_start', entry: 'start', nodes: { start: { type: 'showContent', content: 'rock' } }, layout: undefined })
    expect(res.status).toBe(400)
    expect(JSON.stringify(res.body.error)).toContain("'start' names the Start node")
  })

  it('keeps the places of the nodes still there when a patch changes the nodes without a layout', async () => {
    const nodes = { segment: { type: 'isInSegment', segment: 'seg_fans', yes: 'rock' }, rock: { type: 'showContent', content: 'rock' } }
    const res = await edge.admin('PATCH', `${S}/workflows/wf_album`, { nodes })
    expect(res.status).toBe(200)
    const { start, segment, rock } = album.layout
    expect(res.body.layout).toEqual({ start, segment, rock })
  })

  it('is saved by the console with the graph, and the console can activate and pause in the same save', async () => {
    const cookie = await edge.consoleCookie('192.0.2.77')
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(await (await edge.fetch(`/admin/sites/lay/workflows/new`, { headers: { cookie } })).text())![1]
    const save = (body: Record<string, unknown>) =>
      edge.fetch('/admin/sites/lay/workflows/save', { method: 'POST', headers: { cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) })
    const draft = { name: 'Drawn', start: { trigger: { type: 'purchase' }, limitation: null }, entry: 'n1', nodes: { n1: { type: 'addToSegment', segment: 'seg_fans' } }, layout: { start: { x: 10, y: 20 }, n1: { x: 320, y: 20 } } }
    const made = await save({ ...draft, status: 'active' })
    expect(made.status).toBe(200)
    const { id, status } = await made.json<{ id: string; status: string }>()
    expect(status).toBe('active')
    expect((await edge.admin('GET', `${S}/workflows/${id}`)).body).toMatchObject({ status: 'active', layout: draft.layout })
    const paused = await save({ ...draft, id, status: 'paused', layout: { start: { x: 0, y: 0 }, n1: { x: 400, y: 0 } } })
    expect(await paused.json()).toMatchObject({ id, status: 'paused' })
    expect((await edge.admin('GET', `${S}/workflows/${id}`)).body).toMatchObject({ status: 'paused', layout: { n1: { x: 400, y: 0 } } })
    // Save alone keeps the status; an unknown status is refused and nothing changes.
    expect(await (await save({ ...draft, id })).json()).toMatchObject({ status: 'paused' })
    const bad = await save({ ...draft, id, status: 'running', name: 'Renamed' })
    expect(bad.status).toBe(400)
    expect((await edge.admin('GET', `${S}/workflows/${id}`)).body.name).toBe('Drawn')
    // A refused graph writes nothing, the status it came with included.
    const broken = await save({ ...draft, id, status: 'active', entry: 'n9' })
    expect(broken.status).toBe(400)
    expect((await edge.admin('GET', `${S}/workflows/${id}`)).body.status).toBe('paused')
    // A layout naming a node that is not there points the canvas at it.
    const ghost = await save({ ...draft, id, layout: { n9: { x: 0, y: 0 } } })
    expect(ghost.status).toBe(400)
    expect((await ghost.json<{ error: { node: string } }>()).error.node).toBe('n9')
  })
})
