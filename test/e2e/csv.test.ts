/**
 * CSV in and out of the console in Chromium against `wrangler dev`: a file of 2,500 rows (semicolons, a
 * byte-order mark, one row at fault) read in the browser, previewed, its columns mapped to fields, sent in
 * chunks and written by the queue while the import's progress bar fills; then a search exported as CSV.
 */
import { readFileSync } from 'node:fs'
import { type Browser, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { LAUNCH_ARGS, signIn } from './console-session'

const e2e = inject('e2e')
const ROWS = 2_500
const BAD_ROW = 1_234

/** The file a marketer exported from a spreadsheet: semicolons, a byte-order mark, a date written the local way on one row. */
function spreadsheet(): string {
  const lines = ['E-mail;First name;Born;Favourite genre;Notes']
  for (let i = 1; i <= ROWS; i++) {
    const born = i === BAD_ROW ? '31/12/1990' : `19${70 + (i % 30)}-0${1 + (i % 9)}-1${i % 10}`
    lines.push(`csv-e2e-${i}@example.com;${i === 1 ? '"Zoë ""Z"""' : `Name ${i}`};${born};${i % 2 ? 'rock' : 'jazz'};=SUM(A1:A9), met at the fair`)
  }
  return `\ufeff${lines.join('\r\n')}\r\n`
}

describe.runIf(e2e.browser)('CSV in and out of the console in Chromium', () => {
  let browser: Browser
  let page: Page
  const problems: string[] = []
  const api = async (path: string) => (await fetch(`${e2e.worker}/api/v1/sites/demo${path}`, { headers: { authorization: `Bearer ${e2e.token}` } })).json() as Promise<any>

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: e2e.chromium, args: LAUNCH_ARGS })
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true })).newPage()
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
    await signIn(page, e2e.worker, e2e.token)
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('previews a file, maps its columns, and fills the progress bar as the queue writes it, listing the row at fault', async () => {
    const vipBefore = (await api('/segments/seg_vip')).members as number
    await page.goto(`${e2e.worker}/admin/sites/demo/contacts`)
    await page.click('a:has-text("Import CSV")')
    await page.setInputFiles('#csv-file', { name: 'fair.csv', mimeType: 'text/csv', buffer: Buffer.from(spreadsheet()) })

    // The preview: the first five rows as read, the delimiter found, the byte-order mark gone.
    await page.waitForSelector('#csv-mapping:not([hidden])')
    expect(await page.textContent('#csv-summary')).toContain('fair.csv: 2,500 rows and 5 columns')
    expect(await page.locator('#csv-table thead th[scope=col]').allTextContents()).toEqual(['Row', 'E-mail', 'First name', 'Born', 'Favourite genre', 'Notes'])
    expect(await page.locator('#csv-table tbody tr').count()).toBe(5)
    expect(await page.locator('#csv-table tbody tr').first().locator('td').allTextContents()).toEqual(['csv-e2e-1@example.com', 'Zoë "Z"', '1971-02-11', 'rock', '=SUM(A1:A9), met at the fair'])

    // The mapping: guessed from the names where they say a field, picked by hand where they do not.
    expect(await Promise.all([0, 1, 2, 3, 4].map((i) => page.inputValue(`#map-${i}`)))).toEqual(['email', 'firstName', '', 'favouriteGenre', ''])
    await page.selectOption('#map-2', { label: 'Birth date' })
    await page.selectOption('#csv-segment', { label: 'VIP' })
    expect(await page.textContent('#csv-start')).toBe('Import 2,500 rows')
    await page.click('#csv-start')

    // Sent in chunks, then the import's page: its bar fills as the queue writes.
    await page.waitForURL(/\/admin\/sites\/demo\/contacts\/imports\/imp_\w+$/, { timeout: 60_000 })
    expect(await page.getAttribute('#import-progress', 'max')).toBe(String(ROWS))
    await expect.poll(() => page.textContent('#import-progress-text'), { timeout: 60_000, interval: 500 }).toBe('Finished: 2,500 of 2,500 rows done (1,500 written, 1,000 not written)')
    expect(await page.$eval('#import-progress', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max])).toEqual([ROWS, ROWS])
    expect(await page.locator('table tbody tr').first().locator('td').allTextContents()).toEqual(['1,234', 'Born', 'must be a date written YYYY-MM-DD'])

    // What was written: the rows of the chunks without a fault, each in VIP; none of the refused chunk's.
    const zoe = (await api('/contacts?q=csv-e2e-1@example.com')).items[0]
    expect(zoe).toMatchObject({ email: 'csv-e2e-1@example.com', fields: { firstName: 'Zoë "Z"', birthDate: '1971-02-11', favouriteGenre: 'rock' } })
    expect((await api('/contacts?q=csv-e2e-1500@example.com')).items).toEqual([])
    expect((await api('/segments/seg_vip')).members).toBe(vipBefore + 1_500)
    expect(problems).toEqual([])
  }, 120_000)

  it('exports the contacts a search shows as a CSV file', async () => {
    await page.goto(`${e2e.worker}/admin/sites/demo/contacts?q=csv-e2e-1%40`)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Export CSV")')])
    expect(download.suggestedFilename()).toMatch(/^demo-\d{4}-\d{2}-\d{2}\.csv$/)
    const text = readFileSync((await download.path())!, 'utf8')
    const lines = text.split('\r\n')
    expect(lines[0]).toBe('\ufeffid,email,externalId,claimedEmail,claimedExternalId,firstName,lastName,birthDate,gender,country,city,phone,newsletter,language,favouriteGenre,createdAt,lastSeenAt')
    expect(lines[1]).toMatch(/^c_\w+,csv-e2e-1@example\.com,,,,"Zoë ""Z""",,1971-02-11,,,,,,,rock,\d{4}-/)
    expect(problems).toEqual([])
  })
})
