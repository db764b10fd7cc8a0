/**
 * The workflow builder's live view in Chromium against `wrangler dev`: visits decided at the edge reach
 * D1 through the queue, and the workflow canvas draws how many contacts entered "Album of the week" and took each
 * of its branches, for the last 7 or 30 days.
 */
import { type Browser, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { LAUNCH_ARGS, signIn } from './console-session'

const e2e = inject('e2e')

describe.runIf(e2e.browser)('the workflow builder\'s live view in Chromium', () => {
  let browser: Browser
  let page: Page
  const problems: string[] = []

  const flow = async () => (await (await fetch(`${e2e.worker}/api/v1/sites/demo/workflows/wf_album_of_the_week/flow`, { headers: { authorization: `Bearer ${e2e.token}` } })).json()) as { start: { last7: number } }
  /** A new visitor born on `born` visits the home page, as the page's script would post it. */
  const visit = (born: string) =>
    fetch(`${e2e.worker}/v1/events`, {
      method: 'POST',
      headers: { origin: e2e.page, 'content-type': 'text/plain', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' },
      body: JSON.stringify({ site: e2e.siteKey, events: [{ id: `live-${born}-${Math.random().toString(36).slice(2)}`, type: 'identify', fields: { birthDate: born } }, { id: `lv-${Math.random().toString(36).slice(2)}`, type: 'page_visit', url: `${e2e.page}/` }] }),
    })

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: e2e.chromium, args: LAUNCH_ARGS })
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    await signIn(page, e2e.worker, e2e.token)
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('draws how many contacts entered and took each branch, once the queue has written the visits', async () => {
    const before = (await flow()).start.last7
    for (const born of ['1990-01-01', '1991-02-02', '1970-03-03']) expect((await visit(born)).status).toBe(200)
    // The queue writes visits in batches: the counts move once it has.
    await expect.poll(async () => (await flow()).start.last7, { timeout: 30_000, interval: 500 }).toBeGreaterThanOrEqual(before + 3)
    await page.goto(`${e2e.worker}/admin/sites/demo/workflows/wf_album_of_the_week`)
    await page.waitForSelector('[data-branch="segment:no"]')
    const entered = Number(await page.textContent('[data-passed="start"]'))
    expect(entered).toBeGreaterThanOrEqual(before + 3)
    expect(await page.textContent('[data-branch="segment:no"]')).toMatch(/^no · \d+$/)
    expect(await page.textContent('#workflow-summary')).toContain('in the last 7 days')
    await page.check('input[name=flow-days][value="30"]')
    await expect.poll(() => page.textContent('#workflow-summary')).toContain('in the last 30 days')
    expect(Number(await page.textContent('[data-passed="start"]'))).toBeGreaterThanOrEqual(entered)
    expect(problems).toEqual([])
  })
})
