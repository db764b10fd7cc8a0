/**
 * The workflow canvas in real Chromium against `wrangler dev`: a marketer builds "Millennials get rock,
 * everyone else jazz" once with the mouse (nodes dragged from the toolbox, outputs dragged to inputs) and
 * once with the keyboard alone (toolbox buttons, Tab and Enter between nodes, the panel's lists to
 * connect), activates it, and a visitor on the demo page's origin gets the popup the workflow decides.
 * Then a refusal outlines the node at fault, Delete removes a node, and leaving with unsaved changes asks.
 */
import { type Browser, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { LAUNCH_ARGS, signIn } from './console-session'

const e2e = inject('e2e')

interface Stored {
  id: string
  status: string
  start: { trigger: { type: string; url?: { op: string; value: string } } }
  entry: string
  nodes: Record<string, Record<string, unknown>>
  layout?: Record<string, { x: number; y: number }>
}

describe.runIf(e2e.browser)('the workflow canvas in Chromium', () => {
  let browser: Browser
  let page: Page
  const problems: string[] = []

  const admin = (path: string) => `${e2e.worker}/admin/sites/demo${path}`
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${e2e.worker}/api/v1/sites/demo${path}`, { method, headers: { authorization: `Bearer ${e2e.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  const stored = async (): Promise<Stored> => (await (await api('GET', `/workflows/${new URL(page.url()).pathname.split('/').pop()}`)).json()) as Stored
  const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`)
  const activeId = () => page.evaluate(() => document.activeElement?.id || (document.activeElement as HTMLElement | null)?.dataset.id || '')

  /** Opens a workflow page, once the canvas has drawn its Start node. */
  async function open(path: string) {
    await page.goto(admin(path))
    await node('start').waitFor({ state: 'visible' })
  }

  /** Drags a toolbox node onto the canvas, at fractions `fx`, `fy` of the canvas's width and height, as a mouse does. */
  async function dragTool(type: string, fx: number, fy: number) {
    const from = (await page.locator(`.wf-tool[data-type="${type}"]`).boundingBox())!
    const canvas = (await page.locator('.wf-canvas').boundingBox())!
    const to = { x: canvas.x + canvas.width * fx, y: canvas.y + canvas.height * fy }
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
    await page.mouse.down()
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 })
    await page.mouse.move(to.x, to.y, { steps: 5 })
    await page.mouse.up()
  }

  /** Adds a node of `type` by pressing its toolbox button from the keyboard; the new node `id`'s panel takes the focus. */
  async function addByKeys(type: string, id: string) {
    await page.focus(`.wf-tool[data-type="${type}"]`)
    await page.keyboard.press('Enter')
    await expect.poll(activeId).toBe(`node-${id}-type`)
  }

  /** Chooses the option labelled `label` in a focused list with the arrow keys, as a keyboard user does. */
  async function choose(selector: string, label: string) {
    await page.focus(selector)
    await page.keyboard.press('Home')
    for (let i = 0; i < 30; i++) {
      if ((await page.$eval(selector, (el) => (el as HTMLSelectElement).selectedOptions[0]?.label)) === label) return
      await page.keyboard.press('ArrowDown')
    }
    throw new Error(`${selector} offers no ${label}`)
  }

  /** Drags output `handle` of node `from` to the input of node `to`. */
  async function connect(from: string, handle: string, to: string) {
    const a = (await node(from).locator(`.react-flow__handle[data-handleid="${handle}"]`).boundingBox())!
    const b = (await node(to).locator('.react-flow__handle.target').boundingBox())!
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2)
    await page.mouse.down()
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 })
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 })
    await page.mouse.up()
  }

  /** The demo page on its own origin, for a visitor born on `born`, at `path`: the popup it shows. */
  async function popupFor(path: string, born: string): Promise<string | null> {
    // A visitor's browser is not headless: the edge answers a HeadlessChrome User-Agent as a crawler.
    const visitor = await browser.newContext({ userAgent: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36` })
    await visitor.addInitScript((b) => localStorage.setItem('demo-born', b), born)
    const p = await visitor.newPage()
    await p.goto(`${e2e.page}${path}`)
    await p.waitForSelector('[data-segue] h2')
    const shown = await p.locator('[data-segue]:has(h2)').first().getAttribute('data-segue')
    await visitor.close()
    return shown
  }

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: e2e.chromium, args: LAUNCH_ARGS })
    page = await (await browser.newContext({ viewport: { width: 1400, height: 950 } })).newPage()
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    await signIn(page, e2e.worker, e2e.token)
    // "Album of the week" shows everyone a popup on every page, and only one interrupting popup shows a
    // page view: it rests while these workflows are tried.
    expect((await api('POST', '/workflows/wf_album_of_the_week/pause')).status).toBe(200)
  })
  afterAll(async () => {
    await api('POST', '/workflows/wf_album_of_the_week/activate')
    await browser?.close()
  })

  it('builds the rock/jazz workflow with the mouse: nodes from the toolbox, outputs dragged to inputs, then saves and activates it', async () => {
    await open('/workflows/new')
    await page.fill('#wf-name', 'Canvas by mouse')
    await node('start').click()
    await page.selectOption('#start-url-op', 'contains')
    await page.fill('#start-url', '/canvas-mouse')

    await dragTool('isInSegment', 0.45, 0.4)
    await expect.poll(() => node('n1').count()).toBe(1)
    // The node dropped is selected: the panel edits it.
    expect(await page.textContent('#wf-panel-title')).toBe('Node n1')
    await page.selectOption('#node-n1-segment', { label: 'Millennials' })
    await dragTool('showContent', 0.75, 0.2)
    await page.selectOption('#node-n2-content', { label: 'Rock album' })
    await dragTool('showContent', 0.75, 0.65)
    await page.selectOption('#node-n3-content', { label: 'Jazz album' })
    expect(await node('n1').textContent()).toContain('In Millennials?')

    await connect('n1', 'yes', 'n2')
    await connect('n1', 'no', 'n3')
    await expect.poll(() => page.locator('.wf-edge-label').allTextContents()).toEqual(expect.arrayContaining(['yes', 'no']))
    expect(await page.locator('.react-flow__edge').count()).toBe(3)
    // An arrow drawn wrong: clicked, then Delete, and drawn again.
    await page.locator('[data-testid="rf__edge-n1|no"]').click()
    await page.keyboard.press('Delete')
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(2)
    await connect('n1', 'no', 'n3')
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(3)

    await page.click('#wf-status-action')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is active.')
    expect(new URL(page.url()).pathname).toMatch(/^\/admin\/sites\/demo\/workflows\/wf_[a-z0-9_]+$/)
    expect(await page.textContent('#wf-status')).toBe('Active')
    const saved = await stored()
    expect(saved).toMatchObject({
      status: 'active',
      start: { trigger: { type: 'page_visit', url: { op: 'contains', value: '/canvas-mouse' } } },
      entry: 'n1',
      nodes: {
        n1: { type: 'isInSegment', segment: 'seg_millennials', yes: 'n2', no: 'n3' },
        n2: { type: 'showContent', content: 'rock' },
        n3: { type: 'showContent', content: 'jazz' },
      },
    })
    // Where the nodes were dropped is kept: the rock node sits above the jazz node, both right of n1.
    const places = saved.layout!
    expect(places.n2.y).toBeLessThan(places.n3.y)
    expect(places.n2.x).toBeGreaterThan(places.n1.x)

    expect(await popupFor('/canvas-mouse', '1991-05-05')).toBe('rock')
    expect(await popupFor('/canvas-mouse', '1962-05-05')).toBe('jazz')
    // Tidied and saved, with the decision node selected, for the README.
    await page.click('#wf-tidy')
    await node('n1').click()
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is active.')
    await page.screenshot({ path: 'docs/images/console-workflow.png' })
    expect(problems).toEqual([])
  })

  it('keeps the places it was saved with when opened again, and moves a node by dragging it', async () => {
    const before = (await stored()).layout!
    await page.reload()
    await node('n3').waitFor({ state: 'visible' })
    const box = (await node('n3').boundingBox())!
    await page.mouse.move(box.x + 40, box.y + 12)
    await page.mouse.down()
    await page.mouse.move(box.x + 40, box.y + 112, { steps: 8 })
    await page.mouse.up()
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is active.')
    const after = (await stored()).layout!
    expect(after.n2).toEqual(before.n2)
    expect(after.n3.y).toBeGreaterThan(before.n3.y + 50)
  })

  it('builds the same workflow with the keyboard alone, and a visitor gets the popup it decides', async () => {
    await open('/workflows/new')
    await page.focus('#wf-name')
    await page.keyboard.type('Canvas by keyboard')

    // The Start node: Tab from the name through the view buttons to the canvas's first node, Enter selects it.
    await node('start').focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.textContent('#wf-panel-title')).toBe('Start')
    await page.focus('#start-url-op')
    await page.keyboard.type('contains')
    // The URL's text field appears once "contains" is chosen.
    await page.waitForSelector('#start-url')
    await page.keyboard.press('Tab')
    expect(await activeId()).toBe('start-url')
    await page.keyboard.press('Control+A')
    await page.keyboard.type('/canvas-keys')

    // A node from the toolbox: the button adds it beside the selected node, and its panel takes the focus.
    await addByKeys('isInSegment', 'n1')
    await page.keyboard.press('Tab')
    expect(await activeId()).toBe('node-n1-segment')
    await page.keyboard.type('Millennials')
    await addByKeys('showContent', 'n2')
    await choose('#node-n2-content', 'Rock album')
    // Back to n1 by the keyboard: Tab moves between the canvas's nodes, Enter selects one.
    await node('start').focus()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id)).toBe('n1')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.textContent('#wf-panel-title')).toBe('Node n1')
    await addByKeys('showContent', 'n3')
    await choose('#node-n3-content', 'Jazz album')

    // Connect n1's outputs from the panel's lists.
    await node('n1').focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.textContent('#wf-panel-title')).toBe('Node n1')
    await page.focus('#node-n1-yes')
    await page.keyboard.type('n2')
    await page.keyboard.press('Tab')
    expect(await activeId()).toBe('node-n1-no')
    await page.keyboard.type('n3')
    await expect.poll(() => page.locator('.react-flow__edge').evaluateAll((es) => es.map((e) => e.getAttribute('data-testid')).sort())).toEqual(['rf__edge-n1|no', 'rf__edge-n1|yes', 'rf__edge-start|next'])

    // One node too many: selected from the keyboard, Delete removes it and every arrow into it.
    await addByKeys('setField', 'n4')
    await node('n4').focus()
    await page.keyboard.press('Delete')
    await expect.poll(() => node('n4').count()).toBe(0)
    // The focus stays on the canvas, on its Start node.
    await expect.poll(activeId).toBe('start')

    await page.focus('#wf-status-action')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is active.')
    expect(await stored()).toMatchObject({
      status: 'active',
      start: { trigger: { url: { op: 'contains', value: '/canvas-keys' } } },
      entry: 'n1',
      nodes: {
        n1: { type: 'isInSegment', segment: 'seg_millennials', yes: 'n2', no: 'n3' },
        n2: { type: 'showContent', content: 'rock' },
        n3: { type: 'showContent', content: 'jazz' },
      },
    })
    expect(Object.keys((await stored()).nodes)).toEqual(['n1', 'n2', 'n3'])
    expect(await popupFor('/canvas-keys', '1990-02-02')).toBe('rock')
    expect(await popupFor('/canvas-keys', '1955-02-02')).toBe('jazz')
    expect(problems).toEqual([])
  })

  it("outlines the node a refusal names and shows the server's message in the panel", async () => {
    const before = problems.length
    await open('/workflows/new')
    await page.fill('#wf-name', 'Canvas refused')
    await page.click('.wf-tool[data-type="showContent"]')
    await node('start').click()
    // With Start selected, a node added goes beside it, and nothing leads to it.
    await page.click('.wf-tool[data-type="showContent"]')
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#node-n2-error')).toContain('cannot be reached from the Start node')
    await expect.poll(() => node('n2').locator('.wf-node').getAttribute('class')).toContain('invalid')
    expect(await node('n1').locator('.wf-node').getAttribute('class')).not.toContain('invalid')
    expect(await page.textContent('#wf-panel-title')).toBe('Node n2')
    expect(problems.splice(before)).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)'])
  })

  it('creates a new workflow once when Save is clicked twice in a row', async () => {
    await open('/workflows/new')
    await page.fill('#wf-name', 'Canvas saved twice')
    await page.click('.wf-tool[data-type="showContent"]')
    await page.dblclick('#wf-save')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is paused.')
    const { items } = (await (await api('GET', '/workflows')).json()) as { items: Array<{ name: string }> }
    expect(items.filter((w) => w.name === 'Canvas saved twice')).toHaveLength(1)
  })

  it('asks before leaving with unsaved changes, and stays when told to', async () => {
    await open('/workflows/new')
    await page.click('.wf-tool[data-type="showContent"]')
    const asked: string[] = []
    page.once('dialog', async (d) => {
      asked.push(d.type())
      await d.dismiss()
    })
    await page.click('a:has-text("← Workflows")')
    await expect.poll(() => asked).toEqual(['beforeunload'])
    expect(new URL(page.url()).pathname).toBe('/admin/sites/demo/workflows/new')
    expect(await node('n1').count()).toBe(1)
  })

  it('adds a node to a workflow saved without places without moving the others', async () => {
    await open('/workflows/wf_album_of_the_week')
    // Where each node sits on the canvas (not on the screen, which scrolls to the new node).
    const places = () => page.locator('.react-flow__node').evaluateAll((ns) => ns.map((n) => [(n as HTMLElement).dataset.id, (n as HTMLElement).style.transform]))
    const before = await places()
    await page.click('.wf-tool[data-type="setField"]')
    await expect.poll(async () => (await places()).length).toBe(before.length + 1)
    expect((await places()).slice(0, before.length)).toEqual(before)
  })

  it('tidies the layout so that every arrow points forwards', async () => {
    await open('/workflows/wf_album_of_the_week')
    await page.click('#wf-tidy')
    const x = async (id: string) => (await node(id).boundingBox())!.x
    expect(await x('start')).toBeLessThan(await x('segment'))
    const graph = await stored()
    for (const [id, n] of Object.entries(graph.nodes)) {
      const arms = (n.variants ?? n.branches ?? []) as Array<{ next?: string }>
      for (const to of [n.yes, n.no, n.next, ...arms.map((a) => a.next)].filter((t): t is string => typeof t === 'string')) expect(await x(id)).toBeLessThan(await x(to))
    }
  })
})
