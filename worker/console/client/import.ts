/**
 * The CSV import's pages. On the import page: the chosen file is read and parsed here (papaparse, which
 * finds the delimiter), its first rows shown with a field picked for each column (guessed from the
 * column's name), then the import is started and its rows sent in chunks of CSV text, in order, each
 * parsed and checked again by the Worker, with a progress bar of the rows sent; then the import's page
 * takes over. On an import's page: the page is read again every second, its progress bar and words
 * brought up to date, until the import is finished.
 */
import Papa from 'papaparse'
import { csrf, h, options, pageData } from './dom'

interface ImportData {
  targets: Array<{ key: string; label: string }>
  /** The fields a row finds its contact by: one column must go to one of them. */
  identifiers: string[]
  chunkRows: number
  chunkBytes: number
  maxRows: number
}

const PREVIEW_ROWS = 5
const n = (x: number) => x.toLocaleString('en')
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

/** A name as compared when guessing a column's field: letters and digits, lower case ("E-mail" is "email"). */
const squeeze = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '')

/** Each column's field, guessed from its name (a field's key or label), each field taken once at most. */
function guess(columns: string[], targets: ImportData['targets']): string[] {
  const taken = new Set<string>()
  return columns.map((name) => {
    const found = targets.find((t) => !taken.has(t.key) && (squeeze(t.key) === squeeze(name) || squeeze(t.label) === squeeze(name)))
    if (!found) return ''
    taken.add(found.key)
    return found.key
  })
}

/** The CSV text of a chunk: the header line, then `rows`, fewer when they would pass the chunk's bytes. */
function chunkText(header: string[], rows: string[][], maxBytes: number): { text: string; taken: number } {
  for (let taken = rows.length; ; taken = Math.ceil(taken / 2)) {
    const text = Papa.unparse({ fields: header, data: rows.slice(0, taken) }, { newline: '\r\n' })
    if (taken === 1 || new TextEncoder().encode(text).length <= maxBytes) return { text, taken }
  }
}

const ATTEMPTS = 4

async function send(url: string, method: string, body: string, type: string): Promise<{ ok: boolean; data: any }> {
  // A chunk sent again is answered as the first time: a request lost on the way, or met by a busy or
  // failing server (5xx), is simply tried again.
  for (let attempt = 1; ; attempt++) {
    const wait = () => new Promise((r) => setTimeout(r, 1000 * attempt))
    try {
      const res = await fetch(url, { method, body, headers: { 'content-type': type, accept: 'application/json', 'x-csrf-token': csrf() }, credentials: 'same-origin' })
      if (res.status >= 500 && attempt < ATTEMPTS) {
        await wait()
        continue
      }
      const data = await res.json().catch(() => ({ error: { message: `the console answered ${res.status}` } }))
      return { ok: res.ok, data }
    } catch (err) {
      if (attempt === ATTEMPTS) throw err
      await wait()
    }
  }
}

function importPage(box: HTMLElement) {
  const data = pageData<ImportData>('import-data')
  const file = byId<HTMLInputElement>('csv-file')
  const problem = byId<HTMLElement>('csv-problem')
  const mapping = byId<HTMLElement>('csv-mapping')
  const table = byId<HTMLTableElement>('csv-table')
  const start = byId<HTMLButtonElement>('csv-start')
  const sending = byId<HTMLElement>('csv-sending')
  const bar = byId<HTMLProgressElement>('csv-sent')
  const sentText = byId<HTMLElement>('csv-sent-text')
  let header: string[] = []
  let rows: string[][] = []
  let name = ''

  const say = (message: string | null) => {
    problem.textContent = message ?? ''
    problem.hidden = message === null
  }
  const selects = () => [...table.querySelectorAll<HTMLSelectElement>('select')]

  function preview() {
    const fields = guess(header, data.targets)
    const choices: Array<[string, string]> = [['', 'Skip this column'], ...data.targets.map((t): [string, string] => [t.key, t.label])]
    table.replaceChildren(
      h('caption', { class: 'sr-only', text: `The first ${Math.min(PREVIEW_ROWS, rows.length)} rows, and the field each column goes to` }),
      h('thead', {},
        h('tr', {}, h('th', { scope: 'col', text: 'Row' }), ...header.map((col) => h('th', { scope: 'col', text: col }))),
        h('tr', {}, h('th', { scope: 'row', text: 'Goes to' }), ...header.map((col, i) =>
          h('td', {}, h('label', { class: 'sr-only', for: `map-${i}`, text: `Field for the column ${col}` }), options(h('select', { id: `map-${i}`, 'data-column': col }), choices, fields[i])),
        )),
      ),
      h('tbody', {}, ...rows.slice(0, PREVIEW_ROWS).map((cells, r) => h('tr', {}, h('th', { scope: 'row', text: n(r + 1) }), ...header.map((_, i) => h('td', { text: cells[i] ?? '' }))))),
    )
    byId<HTMLElement>('csv-summary').textContent = `${name}: ${n(rows.length)} rows and ${n(header.length)} columns. Pick the field each column goes to; the first rows are shown as read.`
    start.textContent = `Import ${n(rows.length)} rows`
    mapping.hidden = false
  }

  file.addEventListener('change', async () => {
    say(null)
    mapping.hidden = true
    const chosen = file.files?.[0]
    if (!chosen) return
    const text = await chosen.text()
    const parsed = Papa.parse<string[]>(text, { skipEmptyLines: 'greedy' })
    const quote = parsed.errors.find((e) => e.type === 'Quotes')
    if (quote) return say(`This file is not CSV the importer can read: row ${n(quote.row ?? 0)} has a quote that is not closed or stands inside a cell.`)
    ;[header = [], ...rows] = parsed.data
    name = chosen.name
    if (header.length === 0 || rows.length === 0) return say('This file has no rows after its header line.')
    if (rows.length > data.maxRows) return say(`This file has ${n(rows.length)} rows; an import takes at most ${n(data.maxRows)}. Split it in several files.`)
    if (text.includes('\ufffd')) say('Some characters of this file could not be read as UTF-8 (shown as �): save it as "CSV UTF-8" and choose it again, or import it as it is.')
    preview()
  })

  start.addEventListener('click', async () => {
    const fields = selects().map((s) => s.value)
    if (!fields.some((f) => data.identifiers.includes(f))) return say('Pick a column for the email, the external id or the contact id: that is how each row finds its contact.')
    const twice = fields.find((f, i) => f !== '' && fields.indexOf(f) !== i)
    if (twice) return say(`Two columns go to ${data.targets.find((t) => t.key === twice)?.label ?? twice}: pick another field for one of them, or skip it.`)
    say(null)
    start.disabled = true
    for (const s of selects()) s.disabled = true
    const segment = byId<HTMLSelectElement>('csv-segment').value
    const base = box.dataset.startUrl!
    try {
      const created = await send(base, 'POST', JSON.stringify({ name, columns: header.map((col, i) => ({ name: col, field: fields[i] || null })), rows: rows.length, ...(segment ? { segment } : {}) }), 'application/json')
      if (!created.ok) throw new Error(created.data.error?.message)
      const id: string = created.data.id
      sending.hidden = false
      bar.max = rows.length
      let failed = 0
      for (let seq = 0, done = 0; done < rows.length; seq++) {
        const { text, taken } = chunkText(header, rows.slice(done, done + data.chunkRows), data.chunkBytes)
        const sent = await send(`${base}/${id}/chunks/${seq}`, 'PUT', text, 'text/csv')
        if (!sent.ok) throw new Error(sent.data.error?.message)
        if (sent.data.status === 'failed') failed += taken
        done += taken
        bar.value = done
        sentText.textContent = `Sent ${n(done)} of ${n(rows.length)} rows${failed ? ` (${n(failed)} in chunks refused for a row at fault)` : ''}.`
      }
      const finished = await send(`${base}/${id}/finish`, 'POST', '', 'application/json')
      if (!finished.ok) throw new Error(finished.data.error?.message)
      location.assign(`${base}/${id}`)
    } catch (err) {
      say(`The import stopped: ${(err as Error).message || 'the console did not answer'}. Rows sent before it stopped are written; see Recent imports.`)
      start.disabled = false
      for (const s of selects()) s.disabled = false
    }
  })
}

/** An import's page, read again every second until its import is finished, its bar and words updated in place. */
function statusPage(box: HTMLElement) {
  const bar = byId<HTMLProgressElement>('import-progress')
  const words = byId<HTMLElement>('import-progress-text')
  const poll = async () => {
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
      const page = new DOMParser().parseFromString(await res.text(), 'text/html')
      const next = page.getElementById('import-status')
      const nextBar = page.getElementById('import-progress') as HTMLProgressElement | null
      if (!next || !nextBar) return setTimeout(poll, 1000)
      // The whole page once finished (the rows refused, the totals); until then the bar and its words.
      if (next.dataset.status === 'finished') return location.reload()
      bar.max = nextBar.max
      bar.value = nextBar.value
      bar.textContent = nextBar.textContent
      words.textContent = page.getElementById('import-progress-text')?.textContent ?? ''
    } catch {
      // Offline for a moment: tried again below.
    }
    setTimeout(poll, 1000)
  }
  if (box.dataset.status !== 'finished') setTimeout(poll, 1000)
}

const importBox = document.getElementById('csv-import')
const statusBox = document.getElementById('import-status')
if (importBox) importPage(importBox)
if (statusBox) statusPage(statusBox)
