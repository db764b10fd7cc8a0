/**
 * The admin console in real Chromium against `wrangler dev`, as a marketer uses it, ending with a
 * visitor page that receives the content the new workflow decides on.
 */
import { mkdirSync } from 'node:fs'
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

const e2e = inject('e2e')
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
const XSS = `"><script>alert('x')</script><img src=x onerror=alert(1)>`

describe.runIf(e2e.browser)('the admin console in Chromium', () => {
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const problems: string[] = []

  const admin = (path: string) => `${e2e.worker}/admin/sites/demo${path}`
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${e2e.worker}/api/v1/sites/demo${path}`, { method, headers: { authorization: `Bearer ${e2e.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })

  beforeAll(async () => {
    mkdirSync('docs/images', { recursive: true })
    browser = await chromium.launch({ executablePath: e2e.chromium, args: LAUNCH_ARGS })
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    page = await context.newPage()
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('dialog', async (d) => {
      // Leaving a workflow with unsaved changes asks first (a test that leaves one on purpose says yes).
      if (d.type() === 'beforeunload') return d.accept()
      problems.push(`dialog: ${d.message()}`)
      await d.dismiss()
    })
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('sends a visitor without a session to sign in, and signs in with the admin token by keyboard', async () => {
    await page.goto(admin('/segments'))
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token')
    await page.keyboard.type(e2e.token)
    await page.keyboard.press('Enter')
    await page.waitForURL(admin('/segments'))
    expect(problems).toEqual([])
  })

  it('creates a dynamic segment with the builder, showing the live count and summary, then its members', async () => {
    await page.goto(admin('/segments'))
    await page.click('text=Create new segment')
    await page.click('a[href="?type=dynamic"]')
    await page.fill('#f-name', 'Born in the 1990s')
    await page.fill('#f-description', 'Made in the console')
    await page.fill('#c-0-from', '1990-01-01')
    await page.fill('#c-0-to', '1999-12-31')
    await expect.poll(() => page.textContent('#live')).toMatch(/^\d+ contacts?: born between 1990-01-01 and 1999-12-31$/)
    await page.click('button[type=submit]:has-text("Create segment")')
    await page.waitForSelector('text=Segment created.')
    expect(await page.textContent('main')).toContain('ana@example.com')
    await page.goto(admin('/segments'))
    const row = page.locator('tr', { hasText: 'Born in the 1990s' })
    expect(await row.locator('.dot.dynamic').count()).toBe(1)
    expect(await row.locator('.dot.dynamic').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(30, 142, 62)')
    expect(await row.textContent()).toContain('Dynamic segment')
    await page.screenshot({ path: 'docs/images/console-segments.png', fullPage: true })
  })

  it('filters the list by type and searches it by name', async () => {
    await page.goto(admin('/segments'))
    await page.selectOption('#type', 'static')
    await page.click('button:has-text("Filter")')
    const types = await page.locator('tbody tr .type').allTextContents()
    expect(types.length).toBeGreaterThan(0)
    expect(types.every((t) => t.startsWith('Static'))).toBe(true)
    await page.selectOption('#type', '')
    await page.fill('#q', 'MILLEN')
    await page.click('button:has-text("Filter")')
    expect(await page.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['Millennials'])
  })

  it('adds a contact to a static segment and removes it again', async () => {
    await page.goto(admin('/contacts'))
    await page.fill('#q', 'ana@')
    await page.click('button:has-text("Search")')
    await page.click('a:has-text("ana@example.com")')
    await page.selectOption('#add-segment', { label: 'VIP' })
    await page.click('button:has-text("Add to Segment")')
    await page.waitForSelector('text=Added to the segment.')
    const vip = page.locator('li[data-membership="seg_vip"]')
    expect(await vip.count()).toBe(1)
    expect(await page.locator('li[data-membership="seg_millennials"] button').count()).toBe(0)
    expect(await page.locator('li[data-membership="seg_millennials"]').textContent()).toContain('born between 1981-01-01 and 1996-12-31')
    await page.screenshot({ path: 'docs/images/console-contact.png', fullPage: true })
    await vip.locator('button:has-text("Remove from segment")').click()
    await page.waitForSelector('text=Removed from the segment.')
    expect(await page.locator('li[data-membership="seg_vip"]').count()).toBe(0)
  })

  it('creates content with a live preview drawn by the SDK renderer, without taking the focus', async () => {
    await page.goto(admin('/content/new'))
    await page.fill('#f-name', 'E2E offer')
    await page.fill('#f-id', 'e2e-offer')
    await page.selectOption('#f-format', 'slide-in')
    await page.selectOption('#f-position', 'bottom-left')
    await page.fill('#f-body', '<p>Free <strong>shipping</strong></p><script>alert(1)</script>')
    await page.fill('#f-title', 'Free shipping today')
    const preview = page.frameLocator('#preview')
    await expect.poll(() => preview.locator('[data-segue] h2').textContent()).toBe('Free shipping today')
    expect(await preview.locator('[data-segue] strong').textContent()).toBe('shipping')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-title')
    await page.click('button:has-text("Create content")')
    await page.waitForSelector('text=Content saved.')
  })

  it('shows remote http and https images in the live preview, under the console\'s Content-Security-Policy', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#e33"/></svg>'
    await page.route(/^https?:\/\/images\.example\//, (route) => route.fulfill({ contentType: 'image/svg+xml', body: svg }))
    const res = await page.goto(admin('/content/new'))
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'")
    await page.fill('#f-image', 'http://images.example/cover.svg')
    await page.fill('#f-body', '<p><img src="https://images.example/inline.svg"></p>')
    const loaded = () => page.frameLocator('#preview').locator('[data-segue] img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth))
    await expect.poll(loaded).toEqual([40, 40])
    await page.unroute(/^https?:\/\/images\.example\//)
    expect(problems).toEqual([])
  })

  it('copies the installation snippet with its button', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e2e.worker })
    await page.goto(admin(''))
    await page.click('button:has-text("Copy snippet")')
    await expect.poll(() => page.textContent('[data-copied="snippet"]')).toBe(' Copied.')
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await page.textContent('#snippet'))
    expect(problems).toEqual([])
  })

  it('builds a workflow with an Is in Segment node in the form view, described as it goes, and activates it from the list', async () => {
    await page.goto(admin('/workflows/new'))
    await page.click('#wf-view-form')
    await page.fill('#wf-name', 'E2E offer for Millennials')
    await page.selectOption('#start-url-op', 'contains')
    await page.fill('#start-url', '/e2e-offer')
    await page.click('#wf-add-node')
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('node-n1-type')
    await page.selectOption('#node-n1-type', 'isInSegment')
    await page.selectOption('#node-n1-segment', { label: 'Millennials' })
    await page.click('#wf-add-node')
    await page.selectOption('#node-n2-content', { label: 'E2E offer' })
    await page.selectOption('#node-n1-yes', 'n2')
    await expect.poll(() => page.textContent('#workflow-summary')).toContain('n1: In Millennials? (yes to n2); n2: Show E2E offer')
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is paused.')
    // The form view stays the page's view once saved, and the canvas draws the same graph.
    expect(new URL(page.url()).hash).toBe('#form')
    await page.click('#wf-view-canvas')
    await expect.poll(() => page.locator('.react-flow__node').evaluateAll((ns) => ns.map((n) => (n as HTMLElement).dataset.id))).toEqual(['start', 'n1', 'n2'])
    await page.goto(admin('/workflows'))
    const row = page.locator('tr', { hasText: 'E2E offer for Millennials' })
    expect(await row.locator('.badge').textContent()).toBe('Paused')
    await row.locator('button:has-text("Activate")').click()
    await page.waitForSelector('text=Workflow saved.')
    expect(await page.locator('tr', { hasText: 'E2E offer for Millennials' }).locator('.badge').textContent()).toBe('Active')
  })

  it('builds an A/B test of two popups in the form view, saves it, and opens its report', async () => {
    await page.goto(admin('/workflows/new#form'))
    await page.fill('#wf-name', 'E2E rock test')
    await page.selectOption('#start-url-op', 'contains')
    await page.fill('#start-url', '/e2e-rock-test')
    await page.click('#wf-add-node')
    await page.selectOption('#node-n1-type', 'abTest')
    await page.click('#wf-add-node')
    await page.selectOption('#node-n2-content', { label: 'E2E offer' })
    await page.click('#wf-add-node')
    await page.selectOption('#node-n3-content', { index: 0 })
    await page.selectOption('#node-n1-arm-0-next', 'n2')
    await page.selectOption('#node-n1-arm-1-next', 'n3')
    await page.fill('#node-n1-arm-1-weight', '3')
    await expect.poll(() => page.textContent('#workflow-summary')).toContain('n1: A/B test (2) (a to n2, b to n3)')
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is paused.')
    const list = (await (await api('GET', '/workflows')).json()) as { items: Array<{ id: string; name: string; nodes: Record<string, { type: string; variants?: Array<{ id: string; weight: number; next?: string }> }> }> }
    const made = list.items.find((w) => w.name === 'E2E rock test')!
    expect(made.nodes.n1).toEqual({ type: 'abTest', variants: [{ id: 'a', weight: 1, next: 'n2' }, { id: 'b', weight: 3, next: 'n3' }] })
    await page.goto(admin('/workflows'))
    await page.click(`a[href$="/workflows/${made.id}/tests/n1"]`)
    await page.waitForSelector('text=Chance to be best')
    expect(await page.locator('tr[data-variant]').count()).toBe(2)
    expect(problems).toEqual([])
  })

  it('shows a refusal beside the node at fault in the form view', async () => {
    const before = problems.length
    await page.goto(admin('/workflows/new#form'))
    await page.fill('#wf-name', 'Broken')
    await page.click('#wf-add-node')
    await page.click('#wf-add-node')
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#node-n2-error')).toContain('cannot be reached from the Start node')
    expect(await page.locator('#node-n2').getAttribute('class')).toContain('invalid')
    // The refusal is a 400 answer, which Chromium reports on the console; it is the only message.
    expect(problems.splice(before)).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)'])
  })

  it('delivers the new content to a visitor page with the script tag, once it comes first among the workflows that interrupt', async () => {
    // "Album of the week" shows a Millennial its popup on every page, and came first: only one workflow's
    // interruptive content shows on a request, so the owner moves it after the new offer.
    expect((await api('PATCH', '/workflows/wf_album_of_the_week', { priority: 100 })).status).toBe(200)
    // A visitor's browser is not headless: the edge answers a HeadlessChrome User-Agent as a crawler, without content.
    const visitor = await browser.newContext({ userAgent: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36` })
    await visitor.addInitScript(() => localStorage.setItem('demo-born', '1991-05-05'))
    const p = await visitor.newPage()
    await p.goto(`${e2e.page}/e2e-offer`)
    await expect.poll(() => p.locator('[data-segue="e2e-offer"] h2').textContent()).toBe('Free shipping today')
    await visitor.close()
    expect((await api('PATCH', '/workflows/wf_album_of_the_week', { priority: 0 })).status).toBe(200)
  })

  it('reorders workflows by dragging a row, and by the keyboard with Move up, and the order holds once read back', async () => {
    const order = async () => ((await (await api('GET', '/workflows')).json()) as { items: Array<{ id: string }> }).items.map((w) => w.id)
    const shown = () => page.locator('tr[data-workflow]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.workflow!))
    await page.goto(admin('/workflows'))
    const before = await shown()
    expect(before).toEqual(await order())
    const [first, second] = before
    const target = page.locator(`tr[data-workflow="${second}"] td.order`)
    const box = (await target.boundingBox())!
    await page.locator(`tr[data-workflow="${first}"] td.order`).dragTo(target, { targetPosition: { x: 8, y: box.height - 4 } })
    await expect.poll(() => page.textContent('#order-status')).toMatch(/^Order saved: .+ is number 2\.$/)
    const dragged = [second, first, ...before.slice(2)]
    expect(await shown()).toEqual(dragged)
    expect(await order()).toEqual(dragged)
    await page.reload()
    expect(await shown()).toEqual(dragged)
    expect(await page.locator('tr[data-workflow] .position').allTextContents()).toEqual(dragged.map((_, i) => String(i + 1)))
    // Back by keyboard: at the top, Move up turns off and the focus stays on the row, on Move down.
    await page.locator(`tr[data-workflow="${first}"] button[value=up]`).focus()
    await page.keyboard.press('Enter')
    await expect.poll(order).toEqual(before)
    expect(await shown()).toEqual(before)
    expect(await page.evaluate(() => [document.activeElement?.closest('tr')?.dataset.workflow, (document.activeElement as HTMLButtonElement).value])).toEqual([first, 'down'])
    await page.screenshot({ path: 'docs/images/console-workflows.png' })
    expect(problems).toEqual([])
  })

  it('sets weekly hours on a piece of content through its form, and removes them again', async () => {
    const stored = async () => ((await (await api('GET', '/content/e2e-offer')).json()) as { schedule?: unknown }).schedule
    await page.goto(admin('/content/e2e-offer'))
    await page.click('#schedule-add')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('weekly-0-mon')
    await page.uncheck('input[name="weekly-0-fri"]')
    await page.fill('#f-weekly-0-from', '10:00')
    await page.fill('#f-weekly-0-to', '18:00')
    await page.click('button:has-text("Save content")')
    await page.waitForSelector('text=Content saved.')
    expect(await stored()).toEqual({ weekly: [{ days: ['mon', 'tue', 'wed', 'thu'], from: '10:00', to: '18:00' }] })
    expect(await page.locator('fieldset.window legend').allTextContents()).toEqual(['Weekly hours 1'])
    await page.goto(admin('/content'))
    expect(await page.locator('tr', { hasText: 'E2E offer' }).textContent()).toContain('Mon–Thu 10:00–18:00')
    await page.goto(admin('/content/e2e-offer'))
    await page.click('button:has-text("Remove weekly hours 1")')
    await page.click('button:has-text("Save content")')
    await page.waitForSelector('text=Content saved.')
    expect(await stored()).toBeUndefined()
    expect(problems).toEqual([])
  })

  it('builds a form in the content editor by keyboard, previews it as a sample contact and in Arabic, right to left, and saves it', async () => {
    const preview = page.frameLocator('#preview')
    const box = preview.locator('[data-segue] .b')
    const type = async (selector: string, text: string) => {
      await page.focus(selector)
      await page.keyboard.type(text)
    }
    const press = async (selector: string, key = 'Enter') => {
      await page.focus(selector)
      await page.keyboard.press(key)
    }
    await page.goto(admin('/content/new'))
    await type('#f-name', 'E2E newsletter')
    await type('#f-id', 'e2e-newsletter')
    await press('#f-format', 'ArrowDown')
    await type('#f-title', 'Hi {{firstName | "there"}}')
    await expect.poll(() => box.locator('h2').textContent()).toBe('Hi there')

    // A field: Add a field takes the focus to its choice; the label follows the field chosen.
    await press('button:has-text("Add a field")')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('form-field-0-key')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Tab')
    expect(await page.inputValue('#f-form-field-0-label')).toBe('Email')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Space')
    await press('button:has-text("Add a field")')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await type('#f-form-consent', 'Send me the weekly picks.')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Space')
    await type('#f-form-submit', 'Subscribe')
    const labels = () => box.locator('form label > span').allTextContents()
    await expect.poll(labels).toEqual(['Email', 'First name', 'Send me the weekly picks.'])
    expect(await box.locator('form button, form input[type=submit]').last().textContent()).toBe('Subscribe')

    // First name first: Move up on the second field, the focus staying on its buttons.
    await press('button[aria-label="Move field 2 up"]')
    await expect.poll(labels).toEqual(['First name', 'Email', 'Send me the weekly picks.'])
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Move field 1 down')

    // Preview as the first sample contact the console offers: the token takes their first name.
    const samples = (await page.evaluate((url) => fetch(url).then((r) => r.json()), admin('/content/preview/contacts'))) as { contacts: Array<{ fields: { firstName: string } }> }
    expect(samples.contacts.length).toBeGreaterThan(0)
    await expect.poll(() => page.locator('#preview-as option').count()).toBe(samples.contacts.length + 1)
    await press('#preview-as', 'ArrowDown')
    await expect.poll(() => box.locator('h2').textContent()).toBe(`Hi ${samples.contacts[0].fields.firstName}`)

    // An Arabic version, previewed right to left.
    await press('#language-add')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('v-0-lang')
    await page.keyboard.type('ar')
    await page.keyboard.press('Tab')
    await page.keyboard.type('مرحبا {{firstName | "صديقي"}}')
    await page.selectOption('#preview-lang', 'ar')
    await expect.poll(() => box.locator('h2').textContent()).toBe(`مرحبا ${samples.contacts[0].fields.firstName}`)
    expect(await box.getAttribute('dir')).toBe('rtl')
    expect(await box.getAttribute('lang')).toBe('ar')

    await press('button:has-text("Create content")')
    await page.waitForSelector('text=Content saved.')
    const stored = (await (await api('GET', '/content/e2e-newsletter')).json()) as Record<string, unknown>
    expect(stored).toMatchObject({
      name: 'E2E newsletter',
      format: 'slide-in',
      title: 'Hi {{firstName | "there"}}',
      form: {
        fields: [{ key: 'firstName', label: 'First name', type: 'text' }, { key: 'email', label: 'Email', type: 'email', required: true }],
        consent: { text: 'Send me the weekly picks.', required: true },
        submit: 'Subscribe',
      },
      versions: { ar: { title: 'مرحبا {{firstName | "صديقي"}}' } },
    })
    expect(problems).toEqual([])
  })

  it('gives a workflow weekly hours in the builder\'s Start node, showing a refusal beside the window at fault', async () => {
    const before = problems.length
    await page.goto(admin('/workflows/new#form'))
    await page.fill('#wf-name', 'E2E weekend hours')
    await page.click('#wf-add-node')
    await page.click('#start-schedule-add')
    for (const day of ['mon', 'tue', 'wed', 'thu', 'fri']) await page.uncheck(`#start-schedule-weekly-0-${day}`)
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#start-schedule-weekly-0-error')).toBe('days: pick at least one day')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('start-schedule-weekly-0-mon')
    expect(problems.splice(before)).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)'])
    await page.check('#start-schedule-weekly-0-sat')
    await page.check('#start-schedule-weekly-0-sun')
    await page.click('#wf-save')
    await expect.poll(() => page.textContent('#wf-saved')).toBe('Saved. The workflow is paused.')
    await page.goto(admin('/workflows'))
    expect(await page.locator('tr', { hasText: 'E2E weekend hours' }).locator('td.schedule').textContent()).toBe('Weekends 09:00–17:00')
  })

  it('shows what visitors sent as text: nothing they send runs in the console', async () => {
    await api('POST', '/contacts', { id: 'xss-visitor', email: 'xss@example.com', fields: { firstName: XSS, city: XSS, favouriteGenre: XSS } })
    await api('POST', '/contacts/xss-visitor/events', {
      events: [
        { id: 'xss-1', type: 'page_visit', url: `https://shop.example/?q=${encodeURIComponent(XSS)}`, title: XSS, referrer: 'https://ref.example/' },
        { id: 'xss-2', type: 'custom', name: 'wishlist', props: { album: XSS } },
      ],
    })
    for (const path of ['/contacts/xss-visitor', '/contacts/xss-visitor/edit', '/contacts?q=xss']) {
      await page.goto(admin(path))
      expect(await page.evaluate(() => document.querySelectorAll('main script, main img').length), path).toBe(0)
    }
    await page.goto(admin('/contacts/xss-visitor'))
    expect(await page.locator('h1').textContent()).toBe(`${XSS}`)
    expect(problems).toEqual([])
  })

  it('fits a 360 px wide screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 360, height: 740 })
    for (const path of ['/segments', '/contacts/demo-ana', '/workflows', '/workflows/wf_album_of_the_week', '/content/rock', '']) {
      await page.goto(admin(path))
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(360)
      if (path === '/segments') await page.screenshot({ path: 'docs/images/console-phone.png' })
    }
    await page.setViewportSize({ width: 1200, height: 900 })
    expect(problems).toEqual([])
  })
})
