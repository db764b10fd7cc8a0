/**
 * A segment's page in Chromium against `wrangler dev`: the trend chart of the last 30 days after a member
 * joined and one left, with its figures, and who reads the segment.
 */
import { type Browser, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { LAUNCH_ARGS, signIn } from './console-session'

const e2e = inject('e2e')

describe.runIf(e2e.browser)('a segment\'s trend in Chromium', () => {
  let browser: Browser
  let page: Page
  const problems: string[] = []
  const api = (method: string, path: string) => fetch(`${e2e.worker}/api/v1/sites/demo${path}`, { method, headers: { authorization: `Bearer ${e2e.token}` } })

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: e2e.chromium, args: LAUNCH_ARGS })
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
    await signIn(page, e2e.worker, e2e.token)
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('draws the last 30 days with today\'s entries and exits, and lists who reads the segment', async () => {
    const before = ((await (await api('GET', '/segments/seg_vip/trend?days=1')).json()) as { days: Array<{ entered: number; exited: number }> }).days[0]
    // Bob is a VIP already (the demo's seed): Chen and Inès join, and Inès leaves again.
    expect((await api('PUT', '/contacts/demo-chen/segments/seg_vip')).status).toBeLessThan(300)
    expect((await api('PUT', '/contacts/demo-ines/segments/seg_vip')).status).toBeLessThan(300)
    expect((await api('DELETE', '/contacts/demo-ines/segments/seg_vip')).status).toBeLessThan(300)
    await page.goto(`${e2e.worker}/admin/sites/demo/segments/seg_vip`)
    expect(await page.locator('#trend svg.trend').count()).toBe(1)
    expect(await page.locator('#trend svg.trend rect.entered').count()).toBeGreaterThan(0)
    expect(await page.locator('#trend svg.trend rect.exited').count()).toBeGreaterThan(0)
    await page.click('#trend summary')
    const today = page.locator('#trend tbody tr').first()
    expect(await today.locator('td').allTextContents()).toEqual([new Date().toISOString().slice(0, 10), '—', String(before.entered + 2), String(before.exited + 1)])
    expect(await page.textContent('#used-by')).toContain('No workflow or segment reads this segment')
    await page.goto(`${e2e.worker}/admin/sites/demo/segments/seg_millennials`)
    expect(await page.textContent('#used-by')).toMatch(/Workflow Album of the week \(node segment\)/)
    await api('DELETE', '/contacts/demo-chen/segments/seg_vip')
    expect(problems).toEqual([])
  })
})
