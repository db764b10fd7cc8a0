/**
 * The script tag in real Chromium against `wrangler dev`: the renderer downloaded only by visitors the
 * answer brings content to (and served to be cached for good), click and idle display triggers, a form
 * filled and sent by keyboard alone that identifies the contact, an Arabic version laid out right to left,
 * the browser's language on page visits, and hash routes counted as page visits. Besides the demo, the
 * tests make a site of their own through the admin API, with one workflow per page.
 */
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { OUT, rendererFile } from '../../scripts/size.mjs'
import { openBrowserId } from '../../worker/visits/browser-id'

const e2e = inject('e2e')
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
const RENDERER = /\/render\.[\w-]+\.js$/

/** Polls until the outcome shows: the machine may be busy, so it waits up to 10 seconds. */
const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 10_000 })

interface Batch {
  events: Array<{ type: string; url?: string; language?: string; content?: string; action?: string; consent?: boolean; email?: string; fields?: Record<string, unknown> }>
}

interface Visit {
  page: Page
  /** Every address the page requested, in order. */
  requests: string[]
  batches: Batch[]
  answers: Array<{ status: number; body: { state?: string; content?: Array<{ id: string; lang?: string; dir?: string }> } }>
  errors: string[]
}

interface VisitOptions {
  /** localStorage entries the page starts with (a returning visitor's browser id and state). */
  storage?: Record<string, string>
  locale?: string
  /** Fake timers (Playwright's clock), to move time on by hand. */
  clock?: boolean
}

describe.runIf(e2e.browser)('the script tag in Chromium', () => {
  let browser: Browser
  const open: BrowserContext[] = []
  let store: { id: string; key: string }

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${e2e.worker}/api/v1/sites${path}`, { method, headers: { authorization: `Bearer ${e2e.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })

  /** Content, and an active workflow that shows it on page visits whose address contains `path`. */
  async function showOn(path: string, content: Record<string, unknown>): Promise<void> {
    const made = await admin('POST', `/${store.id}/content`, content)
    expect(made.status, await made.clone().text()).toBe(201)
    const workflow = await admin('POST', `/${store.id}/workflows`, {
      name: `Show ${content.id}`,
      status: 'active',
      start: { trigger: { type: 'page_visit', url: { op: 'contains', value: path } }, limitation: null },
      entry: 'show',
      nodes: { show: { type: 'showContent', content: content.id } },
    })
    expect(workflow.status, await workflow.clone().text()).toBe(201)
  }

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: e2e.chromium, args: LAUNCH_ARGS })
    const res = await admin('POST', '', { name: 'Plain store', allowedOrigins: [e2e.page], browserFields: ['firstName'], limits: { rate: 'relaxed' } })
    expect(res.status, await res.clone().text()).toBe(201)
    store = (await res.json()) as { id: string; key: string }
    await showOn('/click', { id: 'newsletter-button', name: 'Newsletter (button)', format: 'slide-in', position: 'bottom-right', title: 'Our weekly letter', body: '<p>New records every Friday.</p>', display: { on: 'click', selector: '#newsletter' } })
    await showOn('/idle', { id: 'still-there', name: 'Still there?', format: 'slide-in', position: 'bottom-left', title: 'Still looking?', display: { on: 'idle', seconds: 30 } })
    await showOn('/form', {
      id: 'newsletter-form',
      name: 'Newsletter form',
      format: 'popup',
      title: 'Join the weekly letter',
      form: {
        fields: [
          { key: 'email', label: 'Email', type: 'email', required: true },
          { key: 'firstName', label: 'First name', type: 'text' },
        ],
        consent: { text: 'Send me the weekly letter', required: true },
        submit: 'Subscribe',
        thanks: 'Thank you! See you on Friday.',
      },
    })
    await showOn('/weekly-record', {
      id: 'album',
      name: 'Album of the week',
      format: 'popup',
      title: 'Album of the week',
      body: '<p>Blue Hours, 20% off.</p>',
      defaultLanguage: 'en',
      versions: { ar: { title: 'ألبوم الأسبوع', body: '<p>ساعات زرقاء، خصم 20٪.</p>' } },
    })
    await showOn('/hello', { id: 'hello', name: 'Hello', format: 'bar', position: 'top', title: 'Hello {{firstName | "there"}}', body: '<p>Picks for {{firstName | "you"}}.</p>' })
    await showOn('/browse', { id: 'third-page', name: 'Third page', format: 'slide-in', title: 'Finding what you like?', display: { on: 'pageViews', count: 3 } })
  })
  afterAll(async () => {
    await browser?.close()
  })
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close()
  })

  /** Headless Chromium says "HeadlessChrome", which the Worker answers as a crawler: visitors say Chrome. */
  const visitorAgent = () => `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36`

  /** Opens a page in a fresh browser profile (an empty HTTP cache), recording requests, batches, answers and errors. */
  async function visit(url: string, opts: VisitOptions = {}): Promise<Visit> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, userAgent: visitorAgent(), locale: opts.locale })
    open.push(context)
    if (opts.storage) await context.addInitScript((entries) => Object.entries(entries).forEach(([k, v]) => localStorage.setItem(k, v)), opts.storage)
    const page = await context.newPage()
    if (opts.clock) await page.clock.install()
    const v: Visit = { page, requests: [], batches: [], answers: [], errors: [] }
    page.on('console', (m) => m.type() === 'error' && v.errors.push(m.text()))
    page.on('pageerror', (e) => v.errors.push(e.message))
    page.on('request', (r) => {
      v.requests.push(r.url())
      if (r.url() === `${e2e.worker}/v1/events`) v.batches.push(JSON.parse(r.postData() ?? '{}'))
    })
    page.on('response', async (r) => {
      if (r.url() === `${e2e.worker}/v1/events`) v.answers.push({ status: r.status(), body: await r.json().catch(() => ({})) })
    })
    await page.goto(url)
    return v
  }

  const storeUrl = (path: string) => `${e2e.page}/store/${store.key}${path}`
  const renderers = (v: Visit) => v.requests.filter((u) => RENDERER.test(u))
  const shown = (page: Page, id: string) => page.locator(`[data-segue="${id}"]`)
  const activeInContent = (page: Page) =>
    page.evaluate(() => {
      const a = document.querySelector('[data-segue]')?.shadowRoot?.activeElement
      return a ? { tag: a.tagName.toLowerCase(), type: a.getAttribute('type'), text: a.textContent, invalid: a.getAttribute('aria-invalid') } : null
    })
  /** The contact the page's browser id names (the id is sealed: the page itself cannot read it). */
  const contactOf = async (page: Page, site: { id: string; key: string }) => {
    const browserId = await page.evaluate((key) => localStorage.getItem(`segue_c_${key}`), site.key)
    return browserId ? ((await openBrowserId(e2e.stateSecret, site.id, browserId))?.contactId ?? null) : null
  }

  it('downloads the renderer only for a visitor the answer brings content to, served to be cached for good', async () => {
    const first = await visit(`${e2e.page}/`)
    await eventually(() => first.page.locator('[data-segue] h2').count()).toBe(1)
    expect(renderers(first)).toHaveLength(1)
    const renderer = await fetch(renderers(first)[0], { headers: { origin: e2e.page } })
    expect(renderer.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(renderer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(renderer.headers.get('access-control-allow-origin')).toBe('*')
    expect(renderer.headers.get('x-content-type-options')).toBe('nosniff')

    // The same visitor again, in a profile with an empty HTTP cache: the demo shows its popup once a day.
    await eventually(() => first.answers.length).toBe(first.batches.length)
    const keys = [`segue_c_${e2e.siteKey}`, `segue_s_${e2e.siteKey}`]
    const storage = await first.page.evaluate((ks) => Object.fromEntries(ks.map((k) => [k, localStorage.getItem(k) ?? ''])), keys)
    const again = await visit(`${e2e.page}/`, { storage })
    await eventually(() => again.answers.length).toBe(1)
    expect(again.answers[0]).toMatchObject({ status: 200, body: { content: [] } })
    // Once the answer is handled (its state kept) a later event goes out: any renderer request came first.
    await eventually(() => again.page.evaluate((k) => localStorage.getItem(k), keys[1])).toBe(again.answers[0].body.state)
    await again.page.evaluate(() => (window as unknown as { segue: (...a: unknown[]) => void }).segue('track', 'after_the_answer'))
    await eventually(() => again.answers.length).toBe(2)
    expect(again.requests.filter((u) => u.startsWith(e2e.worker)).map((u) => new URL(u).pathname)).toEqual(['/sdk.js', '/v1/events', '/v1/events'])
    expect([...first.errors, ...again.errors]).toEqual([])
  })

  it('uses the renderer a page preloads as docs/sdk.md shows, downloading it once', async () => {
    const renderer = rendererFile().slice(OUT.length + 1)
    const v = await visit(storeUrl(`/weekly-record?preload=${renderer}`))
    await eventually(() => shown(v.page, 'album').locator('h2').textContent()).toBe('Album of the week')
    expect(renderers(v)).toEqual([`${e2e.worker}/${renderer}`])
    expect(v.errors).toEqual([])
  })

  it('shows content with a click trigger when the visitor clicks the element, not before', async () => {
    const v = await visit(storeUrl('/click'))
    await eventually(() => renderers(v).length).toBe(1)
    await v.page.click('h1')
    expect(await shown(v.page, 'newsletter-button').count()).toBe(0)
    // The click that counts may come before the renderer has set its trigger: click until it shows.
    await eventually(async () => {
      await v.page.click('#newsletter')
      return shown(v.page, 'newsletter-button').count()
    }).toBe(1)
    expect(await shown(v.page, 'newsletter-button').locator('h2').textContent()).toBe('Our weekly letter')
    expect(await shown(v.page, 'newsletter-button').locator('[role="region"]').getAttribute('aria-labelledby')).toBeTruthy()
    expect(v.errors).toEqual([])
  })

  it('shows content with an idle trigger once the visitor has done nothing for its seconds', async () => {
    const v = await visit(storeUrl('/idle'), { clock: true })
    await eventually(() => renderers(v).length).toBe(1)
    for (let i = 0; i < 3; i++) {
      await v.page.mouse.move(100 + i * 10, 100)
      await v.page.clock.runFor(20_000)
    }
    expect(await shown(v.page, 'still-there').count()).toBe(0)
    await eventually(async () => {
      await v.page.clock.runFor(30_000)
      return shown(v.page, 'still-there').count()
    }).toBe(1)
    expect(await shown(v.page, 'still-there').locator('h2').textContent()).toBe('Still looking?')
    expect(v.errors).toEqual([])
  })

  it('takes a form by keyboard alone, announcing what is wrong, and the submit identifies the contact', async () => {
    const v = await visit(storeUrl('/form'))
    const popup = shown(v.page, 'newsletter-form')
    await eventually(() => popup.locator('h2').textContent()).toBe('Join the weekly letter')
    expect(await activeInContent(v.page)).toMatchObject({ tag: 'button', text: '×' })

    await v.page.keyboard.press('Tab')
    expect(await activeInContent(v.page)).toMatchObject({ tag: 'input', type: 'email' })
    await v.page.keyboard.type('zoe@example')
    await v.page.keyboard.press('Tab')
    await v.page.keyboard.type('Zoe')
    await v.page.keyboard.press('Tab')
    expect(await activeInContent(v.page)).toMatchObject({ tag: 'input', type: 'checkbox' })
    await v.page.keyboard.press('Tab')
    expect(await activeInContent(v.page)).toMatchObject({ tag: 'button', text: 'Subscribe' })
    await v.page.keyboard.press('Enter')

    // Refused: the focus goes back to the email, marked invalid and described by its error; so is the consent box.
    expect(await activeInContent(v.page)).toMatchObject({ tag: 'input', type: 'email', invalid: 'true' })
    const email = popup.locator('input[type=email]')
    const emailError = popup.locator(`[id="${await email.getAttribute('aria-describedby')}"]`)
    expect(await emailError.textContent()).not.toBe('')
    expect(await popup.locator('input[type=checkbox]').getAttribute('aria-invalid')).toBe('true')
    expect(v.batches.flatMap((b) => b.events).some((e) => e.action === 'submitted')).toBe(false)

    await v.page.keyboard.type('.com')
    expect(await email.getAttribute('aria-invalid')).toBeNull()
    expect(await emailError.textContent()).toBe('')
    await v.page.keyboard.press('Tab')
    await v.page.keyboard.press('Tab')
    await v.page.keyboard.press('Space')
    await v.page.keyboard.press('Tab')
    await v.page.keyboard.press('Enter')

    await eventually(() => popup.locator('[role="status"]').textContent()).toBe('Thank you! See you on Friday.')
    expect(await popup.locator('form').count()).toBe(0)
    expect(await activeInContent(v.page)).toMatchObject({ tag: 'p', text: 'Thank you! See you on Friday.' })
    await eventually(() => v.batches.find((b) => b.events.some((e) => e.action === 'submitted'))?.events).toEqual([
      expect.objectContaining({ type: 'identify', email: 'zoe@example.com', fields: { firstName: 'Zoe' } }),
      expect.objectContaining({ type: 'content', content: 'newsletter-form', action: 'submitted', consent: true }),
    ])

    // Read back through the admin API: the email is the visitor's unverified claim, the first name a field.
    const contact = await contactOf(v.page, store)
    expect(contact).toMatch(/^c_/)
    const read = async () => (await (await admin('GET', `/${store.id}/contacts/${contact}`)).json()) as { claimedEmail?: string; fields?: Record<string, unknown> }
    await eventually(read).toMatchObject({ claimedEmail: 'zoe@example.com', fields: { firstName: 'Zoe' } })
    const timeline = async () => ((await (await admin('GET', `/${store.id}/contacts/${contact}/events?limit=50`)).json()) as { items: Array<{ type: string; name?: string; contentId?: string }> }).items
    await eventually(async () => (await timeline()).some((e) => e.type === 'content' && e.name === 'submitted' && e.contentId === 'newsletter-form')).toBe(true)
    expect(v.errors).toEqual([])
  })

  it('shows an Arabic reader the Arabic version, laid out right to left, and sends the browser\'s language', async () => {
    const v = await visit(storeUrl('/weekly-record'), { locale: 'ar-EG' })
    const popup = shown(v.page, 'album')
    await eventually(() => popup.locator('h2').textContent()).toBe('ألبوم الأسبوع')
    expect(v.batches[0].events[0]).toMatchObject({ type: 'page_visit', language: 'ar-EG' })
    const dialog = popup.locator('[role="dialog"]')
    expect([await dialog.getAttribute('dir'), await dialog.getAttribute('lang')]).toEqual(['rtl', 'ar'])
    // Laid out right to left: the close button sits at the dialog's left, the heading's text starts at its right.
    const [box, close, heading] = await Promise.all([dialog.boundingBox(), popup.locator('.x').boundingBox(), popup.locator('h2').evaluate((h) => getComputedStyle(h).direction)])
    expect(close!.x - box!.x).toBeLessThan(box!.width / 2)
    expect(heading).toBe('rtl')

    const english = await visit(storeUrl('/weekly-record'), { locale: 'en-GB' })
    await eventually(() => shown(english.page, 'album').locator('h2').textContent()).toBe('Album of the week')
    const englishDialog = shown(english.page, 'album').locator('[role="dialog"]')
    expect([await englishDialog.getAttribute('dir'), await englishDialog.getAttribute('lang')]).toEqual(['ltr', 'en'])
    expect([...v.errors, ...english.errors]).toEqual([])
  })

  it('fills a token with the fallback, then with the name the visitor gave', async () => {
    const v = await visit(storeUrl('/hello'))
    await eventually(() => shown(v.page, 'hello').locator('h2').textContent()).toBe('Hello there')
    expect(await shown(v.page, 'hello').locator('p').textContent()).toBe('Picks for you.')
    // The visitor says who they are, then moves to another page of the single-page app.
    await v.page.evaluate(() => {
      ;(window as unknown as { segue: (...args: unknown[]) => void }).segue('identify', { fields: { firstName: 'Rita <b>' } })
      history.pushState({}, '', location.pathname + '/2')
    })
    await eventually(() => shown(v.page, 'hello').locator('h2').textContent()).toBe('Hello Rita <b>')
    expect(await shown(v.page, 'hello').locator('p').textContent()).toBe('Picks for Rita <b>.')
    expect(await shown(v.page, 'hello').locator('b').count()).toBe(0)
    expect(v.errors).toEqual([])
  })

  it('holds back content until the page view of the session it waits for', async () => {
    const v = await visit(storeUrl('/browse/1'))
    const next = (n: number) => v.page.evaluate((path) => history.pushState({}, '', path), `/store/${store.key}/browse/${n}`)
    await eventually(() => v.answers.length).toBe(1)
    await next(2)
    await eventually(() => v.answers.length).toBe(2)
    expect(v.answers.map((a) => a.body.content ?? [])).toEqual([[], []])
    expect(renderers(v)).toEqual([])
    await next(3)
    await eventually(() => shown(v.page, 'third-page').count()).toBe(1)
    expect(await shown(v.page, 'third-page').locator('h2').textContent()).toBe('Finding what you like?')
    expect(v.errors).toEqual([])
  })

  it('counts hash-route changes as page visits on a site that asks for it', async () => {
    const v = await visit(storeUrl('/hash?hash-routes'))
    await v.page.click('a[href="#/albums"]')
    await v.page.click('a[href="#/albums"]')
    await v.page.click('a[href="#/albums/blue-hours"]')
    await v.page.goBack()
    const visits = () => v.batches.flatMap((b) => b.events).filter((e) => e.type === 'page_visit').map((e) => new URL(e.url!).hash)
    await eventually(visits).toEqual(['', '#/albums', '#/albums/blue-hours', '#/albums'])
    await eventually(() => v.answers.length).toBe(v.batches.length)
    expect(v.answers.every((a) => a.status === 200)).toBe(true)
    expect(renderers(v)).toEqual([])
    expect(v.errors).toEqual([])
  })
})
