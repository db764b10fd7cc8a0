/**
 * The demo in real Chromium against `wrangler dev`: the page on one origin, the Worker on another.
 */
import { mkdirSync } from 'node:fs'
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { openBrowserId } from '../../worker/visits/browser-id'

const e2e = inject('e2e')
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']

interface Batch {
  contact?: string
  events: Array<{ type: string; url?: string; content?: string; action?: string }>
}

interface Visit {
  page: Page
  context: BrowserContext
  errors: string[]
  batches: Batch[]
}

describe.runIf(e2e.browser)('Segue in Chromium', () => {
  let browser: Browser
  const open: BrowserContext[] = []

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: e2e.chromium, args: LAUNCH_ARGS })
  })
  afterAll(async () => {
    await browser?.close()
  })

  /** Headless Chromium says "HeadlessChrome", which the Worker answers as a crawler: visitors say Chrome. */
  const visitorAgent = () => `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36`
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close()
  })

  /** Opens the demo page in a fresh browser profile, recording page errors and what the SDK sends. */
  async function visit(path = '/', opts: { born?: string } = {}): Promise<Visit> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, userAgent: visitorAgent() })
    open.push(context)
    if (opts.born) await context.addInitScript((born) => localStorage.setItem('demo-born', born), opts.born)
    const page = await context.newPage()
    const errors: string[] = []
    const batches: Batch[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('request', (r) => {
      if (r.url().startsWith(e2e.worker) && r.url().endsWith('/v1/events')) batches.push(JSON.parse(r.postData() ?? '{}'))
    })
    await page.goto(e2e.page + path)
    return { page, context, errors, batches }
  }

  /** The title of the popup of a genre: the demo's A/B test shows a Millennial one of two rock popups (rock, rock-bold). */
  const popupTitle = (page: Page, genre: 'rock' | 'jazz') => page.locator(genre === 'rock' ? '[data-segue="rock"] h2, [data-segue="rock-bold"] h2' : `[data-segue="${genre}"] h2`)
  const activeInPopup = (page: Page) => page.evaluate(() => document.querySelector('[data-segue]')?.shadowRoot?.activeElement?.className ?? null)
  /** The contact the page's browser id names (the id is sealed: the page itself cannot read it). */
  const contactOf = async (page: Page) => {
    const browserId = await page.evaluate((key) => localStorage.getItem(`segue_c_${key}`), e2e.siteKey)
    return browserId ? ((await openBrowserId(e2e.stateSecret, 'demo', browserId))?.contactId ?? null) : null
  }

  async function timeline(contact: string): Promise<Array<{ type: string; name?: string; contentId?: string }>> {
    const res = await fetch(`${e2e.worker}/api/v1/sites/demo/contacts/${contact}/events?limit=200`, { headers: { authorization: `Bearer ${e2e.token}` } })
    return res.ok ? ((await res.json()) as { items: Array<{ type: string; name?: string; contentId?: string }> }).items : []
  }

  async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    let v = await read()
    for (let i = 0; i < 60 && !ok(v); i++) {
      await new Promise((r) => setTimeout(r, 250))
      v = await read()
    }
    return v
  }

  it('shows the rock popup to a visitor born in 1990 (and jazz before the site knows the birth date)', async () => {
    const { page, errors } = await visit('/')
    await expect.poll(() => popupTitle(page, 'jazz').textContent()).toBe('Jazz album of the week')
    await page.keyboard.press('Escape')
    await expect.poll(() => page.locator('[data-segue]').count()).toBe(0)
    await page.fill('#born', '1990-04-02')
    await page.click('button[type=submit]')
    await expect.poll(() => popupTitle(page, 'rock').textContent()).toBe('Rock album of the week')
    expect(await page.locator('[data-segue^="rock"] [role="dialog"]').getAttribute('aria-modal')).toBe('true')
    expect(await activeInPopup(page)).toBe('x')
    mkdirSync('docs/images', { recursive: true })
    await page.screenshot({ path: 'docs/images/demo.png' })
    expect(errors).toEqual([])
  })

  it('shows the jazz popup to a visitor born in 1970, operable and closable by keyboard alone', async () => {
    const { page, errors } = await visit('/', { born: '1970-09-15' })
    await expect.poll(() => popupTitle(page, 'jazz').textContent()).toBe('Jazz album of the week')
    expect(await activeInPopup(page)).toBe('x')
    await page.keyboard.press('Tab')
    expect(await activeInPopup(page)).toBe('c')
    await page.keyboard.press('Tab')
    expect(await activeInPopup(page)).toBe('x')
    await page.keyboard.press('Shift+Tab')
    expect(await activeInPopup(page)).toBe('c')
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('[data-segue]').count()).toBe(0)
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.closest('header, main, aside, form') !== null)).toBe(true)
    expect(errors).toEqual([])
  })

  it('reports shown, closed and clicked, and they reach D1', async () => {
    const closer = await visit('/', { born: '1990-04-02' })
    await expect.poll(() => popupTitle(closer.page, 'rock').count()).toBe(1)
    await closer.page.keyboard.press('Escape')
    const closerId = await eventually(() => contactOf(closer.page), (id) => !!id && id.startsWith('c_'))
    const closed = await eventually(() => timeline(closerId!), (t) => t.some((e) => e.name === 'closed'))
    const rock = closed.find((e) => e.type === 'content')!.contentId
    expect(['rock', 'rock-bold']).toContain(rock)
    expect(closed.filter((e) => e.type === 'content').map((e) => [e.contentId, e.name]).sort()).toEqual([[rock, 'closed'], [rock, 'shown']])

    const clicker = await visit('/', { born: '1970-09-15' })
    await expect.poll(() => popupTitle(clicker.page, 'jazz').count()).toBe(1)
    const clickerId = await eventually(() => contactOf(clicker.page), (id) => !!id && id.startsWith('c_'))
    await clicker.page.locator('[data-segue="jazz"] a.c').click()
    await clicker.page.waitForURL(`${e2e.page}/listen/jazz`)
    const clicked = await eventually(() => timeline(clickerId!), (t) => t.some((e) => e.name === 'clicked'))
    expect(clicked.filter((e) => e.type === 'content').map((e) => e.name).sort()).toEqual(['clicked', 'shown'])
    expect([...closer.errors, ...clicker.errors]).toEqual([])
  })

  it('signs a customer in with a signature made by the page\'s server: Ana gets rock, Bob jazz, on their own contacts', async () => {
    const { page, batches, errors } = await visit('/')
    await expect.poll(() => popupTitle(page, 'jazz').count()).toBe(1)
    await page.keyboard.press('Escape')
    await page.click('button[data-customer="ana@example.com"]')
    await expect.poll(() => popupTitle(page, 'rock').textContent()).toBe('Rock album of the week')
    await expect.poll(() => page.locator('#who').textContent()).toBe('You are signed in as Ana García.')
    const signedIn = batches.flatMap((b) => b.events).find((e) => e.type === 'identify') as { email?: string; signature?: string } | undefined
    expect(signedIn).toMatchObject({ email: 'ana@example.com', signature: expect.stringMatching(/^\d+\.[0-9a-f]{64}$/) })
    expect(await eventually(() => contactOf(page), (id) => id === 'demo-ana')).toBe('demo-ana')
    expect(JSON.stringify(await page.evaluate(() => ({ ...localStorage })))).not.toContain('demo-ana')
    await page.keyboard.press('Escape')
    await page.click('button[data-customer="bob@example.com"]')
    await expect.poll(() => popupTitle(page, 'jazz').textContent()).toBe('Jazz album of the week')
    expect(await eventually(() => contactOf(page), (id) => id === 'demo-bob')).toBe('demo-bob')
    const anasVisits = await eventually(() => timeline('demo-ana'), (t) => t.some((e) => e.type === 'identify'))
    expect(anasVisits.some((e) => e.type === 'page_visit')).toBe(true)
    expect(errors).toEqual([])
  })

  it('sends and stores nothing before consent on a consent-required page', async () => {
    const { page, batches, errors } = await visit('/?consent=required')
    await page.waitForTimeout(1500)
    expect(batches).toEqual([])
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('segue_')))).toEqual([])
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await page.locator('[data-segue]').count()).toBe(0)
    await page.click('#accept')
    await expect.poll(() => batches.length).toBeGreaterThan(0)
    expect(batches[0].events[0].type).toBe('page_visit')
    await expect.poll(() => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('segue_')).length)).toBe(2)
    expect(errors).toEqual([])
  })

  it('counts each single-page-app navigation once', async () => {
    const { page, batches, errors } = await visit('/')
    await expect.poll(() => page.locator('[data-segue]').count()).toBe(1)
    await page.keyboard.press('Escape')
    await page.click('nav a[data-album="neon-static"]')
    await page.click('nav a[data-album="neon-static"]')
    await page.click('nav a[data-album="blue-hours"]')
    await page.goBack()
    const visits = () => batches.flatMap((b) => b.events).filter((e) => e.type === 'page_visit').map((e) => new URL(e.url!).pathname)
    await expect.poll(visits).toEqual(['/', '/demo/albums/neon-static', '/demo/albums/blue-hours', '/demo/albums/neon-static'])
    await page.waitForTimeout(800)
    expect(visits()).toHaveLength(4)
    expect(errors).toEqual([])
  })

  it('still works on a page that replaced JSON.stringify and polluted Array.prototype, adding only window.segue', async () => {
    const context = await browser.newContext({ userAgent: visitorAgent() })
    open.push(context)
    await context.addInitScript(() => {
      ;(window as unknown as { before: string[] }).before = Object.keys(window)
    })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    await page.goto(`${e2e.page}/hostile/json`)
    await expect.poll(() => popupTitle(page, 'jazz').count()).toBe(1)
    const added = await page.evaluate(() => Object.keys(window).filter((k) => !(window as unknown as { before: string[] }).before.includes(k) && k !== 'before'))
    expect(added).toEqual(['segue'])
    expect(errors).toEqual([])
  })

  it('never breaks a page whose fetch throws', async () => {
    const context = await browser.newContext({ userAgent: visitorAgent() })
    open.push(context)
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    await page.goto(`${e2e.page}/hostile/fetch`)
    await page.waitForTimeout(1000)
    await page.click('#own')
    expect(await page.getAttribute('body', 'data-clicked')).toBe('yes')
    expect(await page.evaluate(() => typeof (window as unknown as { segue?: unknown }).segue)).toBe('function')
    expect(errors).toEqual([])
  })
})
