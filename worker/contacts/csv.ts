/**
 * Contacts as CSV, both ways, pure: reading an import's text with papaparse (RFC 4180, commas) and turning
 * its rows into contact inputs through the mapping of columns to fields; writing an export's header and
 * rows, quoted as RFC 4180 asks and safe to open in a spreadsheet.
 */
import Papa from 'papaparse'
import { type FieldValue } from '../../shared/events'
import { type FieldCatalog } from '../conditions/fields'
import { type Contact, PROFILE_FIELDS } from '../data/contacts'
import { type Site } from '../data/sites'

/** The most rows one chunk of an import holds (a batch upsert's), and the most rows an import holds. */
export const CHUNK_ROWS = 1000
export const MAX_IMPORT_ROWS = 100_000
/** The most bytes of CSV one chunk holds: D1 keeps it whole in one row (2 MB at most) until it is written. */
export const MAX_CHUNK_BYTES = 1_000_000

/** Where a column of an import goes: a contact's id, email or external id, or one of its fields. */
export interface ImportColumn {
  /** The column's name in the CSV's header. */
  name: string
  /** `id`, `email`, `externalId`, a system field or a custom field of the site; null skips the column. */
  field: string | null
}

/** What an import reports about a row it could not write: where, and why. */
export interface ImportRowError {
  /** The row's number in the file: 1 is the first row after the header, blank lines not counted. */
  row: number
  /** The column at fault, by its name in the header; null when the row as a whole is. */
  column: string | null
  code: string
  message: string
}

/** The fields an import may set: identifiers and every system field a site owner can write, then the site's own. */
export function importTargets(site: Pick<Site, 'fields'>): string[] {
  return ['id', 'email', 'externalId', ...PROFILE_FIELDS, ...site.fields.map((f) => f.key)]
}

export const IDENTIFIERS = ['id', 'email', 'externalId'] as const

/**
 * Reads CSV text as rows of cells: commas between cells, CRLF or LF between rows, double quotes around a
 * cell holding either or a quote (doubled). Blank lines are skipped (a byte-order mark too). A quote left
 * open or closed in the middle of a cell is an error: the rows after it cannot be told apart.
 *
 * @example
 * parseCsv('email,firstName\r\n"ana@example.com","Ana ""Nena"""\r\n') // { rows: [['email', 'firstName'], ['ana@example.com', 'Ana "Nena"']], errors: [] }
 */
export function parseCsv(text: string): { rows: string[][]; errors: Array<{ row: number; message: string }> } {
  const parsed = Papa.parse<string[]>(text, { delimiter: ',', skipEmptyLines: 'greedy' })
  const errors = parsed.errors.map((e) => ({ row: e.row ?? 0, message: e.code === 'MissingQuotes' ? 'a quoted cell is not closed' : 'a quote stands inside a cell that does not start with one (double it, and quote the cell)' }))
  return { rows: parsed.data, errors }
}

// OWASP's list: a cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets.
const FORMULA_START = /^'*[=+\-@\t\r]/

/**
 * One cell of an export. Text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab
 * or a carriage return, after any apostrophes) gets an apostrophe in front, which `cellValue` takes away
 * again on import; then a cell holding a comma, a quote or a line break is quoted, its quotes doubled.
 * Numbers and booleans are written as they are: a number is never a formula.
 *
 * @example
 * csvCell('=HYPERLINK("http://x")') // `"'=HYPERLINK(""http://x"")"`
 * csvCell(-3) // '-3'
 */
export function csvCell(value: FieldValue | null | undefined): string {
  if (value === null || value === undefined) return ''
  if (typeof value !== 'string') return String(value)
  const safe = FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/** A line of an export: its cells, and CRLF (RFC 4180). */
export const csvLine = (cells: ReadonlyArray<FieldValue | null | undefined>) => `${cells.map(csvCell).join(',')}\r\n`

/**
 * A cell of an import as its text: the apostrophe an export put before a formula taken away again.
 *
 * @example
 * cellValue("'=1+2") // '=1+2'
 * cellValue("'quoted") // "'quoted"
 */
export function cellValue(cell: string): string {
  return FORMULA_START.test(cell) && cell.startsWith("'") ? cell.slice(1) : cell
}

/** The columns of an export: identifiers, every system field, the site's custom fields, then the dates. */
export function exportColumns(site: Pick<Site, 'fields'>): string[] {
  return ['id', 'email', 'externalId', 'claimedEmail', 'claimedExternalId', ...PROFILE_FIELDS, ...site.fields.map((f) => f.key), 'createdAt', 'lastSeenAt']
}

/** A contact as a line of an export, in the order of `exportColumns`. */
export function contactLine(site: Pick<Site, 'fields'>, c: Contact): string {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
  return csvLine([c.id, c.email, c.externalId, c.claimedEmail, c.claimedExternalId, ...PROFILE_FIELDS.map((k) => c.fields[k]), ...site.fields.map((f) => c.fields[f.key]), iso(c.createdAt), iso(c.lastSeenAt)])
}

/** A contact to create or update, as a row of an import gives it (`contactInput` checks it next). */
export interface RowInput {
  id?: string
  email?: string
  externalId?: string
  fields: Record<string, FieldValue>
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false }

/**
 * One row of an import as a contact's values, through the mapping: an empty cell leaves the field as it
 * is; numbers and booleans are read from their text (true/false, yes/no, 1/0); text is kept as written.
 * What cannot be read is an error naming its column. Field types beyond these are checked with the
 * contact (`checkFields`).
 */
export function rowInput(cells: readonly string[], columns: readonly ImportColumn[], catalog: FieldCatalog): { input: RowInput; errors: Array<{ column: string; message: string }> } {
  const input: RowInput = { fields: {} }
  const errors: Array<{ column: string; message: string }> = []
  columns.forEach((col, i) => {
    if (col.field === null) return
    const text = cellValue(cells[i] ?? '')
    if (text.trim() === '') return
    if (col.field === 'id' || col.field === 'email' || col.field === 'externalId') {
      input[col.field] = text.trim()
      return
    }
    const type = catalog.get(col.field)?.type
    if (type === 'number') {
      if (NUMBER.test(text.trim())) input.fields[col.field] = Number(text.trim())
      else errors.push({ column: col.name, message: 'must be a number, written with a dot for decimals (1234.5)' })
    } else if (type === 'boolean') {
      const value = BOOLEANS[text.trim().toLowerCase()]
      if (value === undefined) errors.push({ column: col.name, message: 'must be true or false (or yes/no, 1/0)' })
      else input.fields[col.field] = value
    } else input.fields[col.field] = type === 'date' ? text.trim() : text
  })
  return { input, errors }
}
