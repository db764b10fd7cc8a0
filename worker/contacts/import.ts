/**
 * CSV imports of contacts. An import is created with its columns and the field each goes to (checked
 * against the site), and optionally a static segment its contacts join; its rows then arrive in chunks of
 * up to 1,000, each a CSV document with the header line, numbered from 0 and taken in order. Each chunk
 * is parsed and checked here, at the door, and staged in D1; a chunk with a row at fault is refused whole
 * there and then, with every such row's errors. The queue writes the others (`writeImportChunk`), one
 * message a chunk, each all or nothing as a batch upsert is. The uploader says when no more chunks come.
 */
import { Changes, propagate } from '../background/changes'
import { type ImportMessage } from '../background/messages'
import { FieldCatalog } from '../conditions/fields'
import {
  type Chunk, type ChunkOutcome, type Import, type ImportProgress, finishImport as finishStatement, getChunk, getImport, importChunk,
  importProgress, insertImport, settleChunk, stageChunk, stagedChunk,
} from '../data/imports'
import { getSegment } from '../data/segments'
import { type Site, getSite } from '../data/sites'
import { type Issue, Refusal, notFound, refuse } from '../http/errors'
import { decodeUtf8, issuesOf } from '../http/validate'
import { toBase64Url } from '../lib/base64url'
import { newId } from '../lib/ids'
import { CHUNK_ROWS, IDENTIFIERS, type ImportColumn, type ImportRowError, MAX_CHUNK_BYTES, MAX_IMPORT_ROWS, importTargets, parseCsv, rowInput } from './csv'
import { type ImportCreate, checkFields, contactInput } from './schema'
import { type RowError, importRows } from './service'

/** Failed chunks whose errors an import's status lists: 10 chunks of at most 100 errors each. */
const ERROR_CHUNKS = 10

/**
 * Starts an import: every column goes to a field the site has, or is skipped; no field takes two columns;
 * a contact id, an email or an external id is among them, so every row finds or makes its contact the
 * same way however often it is written; the segment, if any, is a static one of the site.
 */
export async function createImport(env: Env, site: Site, input: ImportCreate, now = Date.now()): Promise<Import> {
  if (input.rows > MAX_IMPORT_ROWS) throw refuse('too_large', 'too_many_rows', `An import holds at most ${MAX_IMPORT_ROWS.toLocaleString('en')} rows (this one announces ${input.rows.toLocaleString('en')}): split the file`, { field: 'rows' })
  const targets = new Set(importTargets(site))
  const issues: Issue[] = []
  const seen = new Map<string, number>()
  input.columns.forEach((col, i) => {
    if (col.field === null) return
    const path = `columns[${i}].field`
    if (!targets.has(col.field)) issues.push({ path, message: `"${col.field}" is not a field an import can set: use id, email, externalId, a system field or one of the site's custom fields` })
    else if (seen.has(col.field)) issues.push({ path, message: `column ${seen.get(col.field)! + 1} already goes to "${col.field}"` })
    else seen.set(col.field, i)
  })
  if (issues.length > 0) throw refuse('invalid', 'invalid_mapping', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { field: issues[0].path, issues })
  if (!IDENTIFIERS.some((k) => seen.has(k))) {
    throw refuse('invalid', 'no_identifier', 'Map a column to the contact id, the email or the external id: that is how each row finds its contact (or makes one)', { field: 'columns' })
  }
  if (input.segment !== undefined) {
    const segment = await getSegment(env.DB, site.id, input.segment)
    if (!segment) throw refuse('not_found', 'segment_not_found', `No segment "${input.segment}" on this site`, { field: 'segment' })
    if (segment.type !== 'static') throw refuse('conflict', 'segment_is_dynamic', `"${segment.name}" is a dynamic segment: its members follow its conditions, so an import cannot add contacts to it`, { field: 'segment' })
  }
  const imported: Import = { id: newId('imp'), siteId: site.id, name: input.name, columns: input.columns, segmentId: input.segment ?? null, totalRows: input.rows, nextSeq: 0, receivedRows: 0, finishedAt: null, createdAt: now }
  await insertImport(env.DB, imported).run()
  return imported
}

/** A chunk as an answer shows it. */
export function chunkJson(c: Chunk) {
  return { seq: c.seq, firstRow: c.firstRow, rows: c.rows, status: c.status, errors: c.errors }
}

/**
 * Takes chunk `seq` of an import: the CSV text, UTF-8, its header line the import's column names. Refused
 * (4xx, nothing kept) when the import is unknown or finished, the chunk is not the one expected next, the
 * text is not CSV, has no row or more than 1,000, or would take the import past the rows it announced. The
 * same chunk sent again is answered as the first time (and queued again if it still waits). A chunk with
 * a row at fault is kept as failed, with each such row's errors, and writes nothing; any other is queued.
 */
export async function receiveChunk(env: Env, site: Site, importId: string, seq: number, body: ArrayBuffer, now = Date.now()) {
  if (body.byteLength > MAX_CHUNK_BYTES) throw refuse('too_large', 'chunk_too_large', `A chunk holds at most ${MAX_CHUNK_BYTES.toLocaleString('en')} bytes of CSV (this one has ${body.byteLength.toLocaleString('en')}): send fewer rows a chunk`)
  const imp = await getImport(env.DB, site.id, importId)
  if (!imp) throw notFound('import', importId)
  const text = decodeUtf8(body)
  const digest = toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))))
  if (seq > imp.nextSeq) throw refuse('conflict', 'chunk_out_of_order', `Chunks are taken in order: send chunk ${imp.nextSeq} first`, { extra: { nextSeq: imp.nextSeq } })
  if (seq === imp.nextSeq && imp.finishedAt !== null) throw refuse('conflict', 'import_finished', 'This import is finished: it takes no more chunks')
  if (seq < imp.nextSeq) {
    const sent = await getChunk(env.DB, site.id, imp.id, seq)
    if (sent?.digest === digest) return answer(env, site, imp, sent)
    throw refuse('conflict', 'chunk_exists', `Chunk ${seq} of this import was sent before with other rows; send chunk ${imp.nextSeq} next`, { extra: { nextSeq: imp.nextSeq } })
  }
  const read = readChunk(text, imp.columns, new FieldCatalog(site.fields), imp.receivedRows + 1)
  if (imp.receivedRows + read.rows > imp.totalRows) {
    throw refuse('invalid', 'too_many_rows', `This chunk's ${read.rows} rows would take the import past the ${imp.totalRows.toLocaleString('en')} it announced`)
  }
  const outcome: ChunkOutcome | undefined = read.errors.length > 0 ? { status: 'failed', refused: new Set(read.errors.map((e) => e.row)).size, errors: read.errors } : undefined
  const chunk = stagedChunk(await env.DB.batch(stageChunk(env.DB, site.id, imp.id, { seq, rows: read.rows, digest, csv: text, outcome }, now)))
  if (chunk?.digest === digest) return answer(env, site, imp, chunk)
  // Another request staged a chunk (or finished the import) between the read above and this write.
  throw refuse('conflict', 'import_changed', 'The import changed while this chunk was read: ask for its status, then send the chunk it expects next')
}

/** A staged chunk's answer: queued (sent to the queue, again if it was before), or settled. */
async function answer(env: Env, site: Site, imp: Import, chunk: Chunk) {
  if (chunk.status !== 'queued') return { status: 200 as const, chunk: chunkJson(chunk) }
  const message: ImportMessage = { kind: 'import', siteId: site.id, importId: imp.id, seq: chunk.seq }
  await env.EVENTS.send(message)
  return { status: 202 as const, chunk: chunkJson(chunk) }
}

/** No more chunks come: the import is finished once the queue has written or refused those it has. */
export async function finishImport(env: Env, site: Site, importId: string, now = Date.now()) {
  if (!(await getImport(env.DB, site.id, importId))) throw notFound('import', importId)
  await finishStatement(env.DB, site.id, importId, now).run()
  return importStatus(env, site, importId)
}

/** Where an import stands: rows received, written and refused, contacts created and updated, the rows' errors. */
export async function importStatus(env: Env, site: Site, importId: string) {
  const imp = await getImport(env.DB, site.id, importId)
  if (!imp) throw notFound('import', importId)
  return importJson(imp, await importProgress(env.DB, site.id, importId, ERROR_CHUNKS))
}

export type ImportStatus = ReturnType<typeof importJson>

/**
 * An import as the API shows it. `receiving` until its uploader finishes it, `writing` while chunks wait
 * for the queue, then `finished`. A failed chunk wrote none of its rows: they all count as failed, and
 * `errors` says which of them were at fault (the first 100 of each of the first 10 failed chunks).
 */
export function importJson(imp: Import, p: ImportProgress) {
  const { queued, written, failed } = p.totals
  return {
    id: imp.id,
    name: imp.name,
    status: imp.finishedAt === null ? 'receiving' : queued.chunks > 0 ? 'writing' : 'finished',
    columns: imp.columns,
    segment: imp.segmentId,
    rows: { total: imp.finishedAt === null ? imp.totalRows : imp.receivedRows, received: imp.receivedRows, written: written.rows, failed: failed.rows, waiting: queued.rows },
    contacts: { created: written.created, updated: written.updated },
    chunks: { received: imp.nextSeq, written: written.chunks, failed: failed.chunks, waiting: queued.chunks },
    refusedRows: failed.refused,
    errors: p.errors,
    nextSeq: imp.nextSeq,
    createdAt: new Date(imp.createdAt).toISOString(),
    finishedAt: imp.finishedAt === null ? null : new Date(imp.finishedAt).toISOString(),
  }
}

/**
 * Reads a chunk's text as contacts to write: its header must name the import's columns, in order; then
 * each row (at most 1,000) becomes a contact input, or errors naming its row number (counted from
 * `firstRow`) and column. The text itself — not CSV, a header that differs, no row, too many — is refused.
 */
export function readChunk(text: string, columns: readonly ImportColumn[], catalog: FieldCatalog, firstRow: number): { rows: number; inputs: unknown[]; errors: ImportRowError[] } {
  if (text.includes('\u0000')) throw refuse('invalid', 'invalid_text', 'Text must not contain NUL characters (\\u0000)')
  const parsed = parseCsv(text)
  if (parsed.errors.length > 0) {
    const issues = parsed.errors.map((e) => ({ path: `row ${e.row}`, message: e.message }))
    throw refuse('invalid', 'invalid_csv', `The chunk is not CSV as RFC 4180 writes it: ${issues.map((i) => `${i.path} of the chunk: ${i.message}`).join('; ')}`, { issues })
  }
  const [header, ...rows] = parsed.rows
  const names = columns.map((c) => c.name)
  if (!header || header.length !== names.length || header.some((h, i) => h.trim() !== names[i].trim())) {
    throw refuse('invalid', 'header_mismatch', `A chunk starts with the import's header line: ${names.join(',')}`)
  }
  if (rows.length === 0) throw refuse('invalid', 'empty_chunk', 'A chunk holds at least one row after its header')
  if (rows.length > CHUNK_ROWS) throw refuse('too_large', 'too_many_rows', `A chunk holds at most ${CHUNK_ROWS.toLocaleString('en')} rows (this one has ${rows.length.toLocaleString('en')})`)
  const columnOf = new Map(columns.flatMap((c) => (c.field === null ? [] : [[c.field, c.name] as const])))
  const errors: ImportRowError[] = []
  const inputs: unknown[] = []
  rows.forEach((cells, i) => {
    const row = firstRow + i
    const fault = (column: string | null, message: string, code = 'invalid_value') => errors.push({ row, column, code, message })
    if (cells.length !== columns.length) return fault(null, `has ${cells.length} cells where the header has ${columns.length}`, 'cells')
    const { input, errors: unread } = rowInput(cells, columns, catalog)
    for (const e of unread) fault(e.column, e.message)
    if (input.id === undefined && input.email === undefined && input.externalId === undefined) return fault(null, 'has no contact id, email or external id: a row needs one to find or make its contact', 'no_identifier')
    const parsed = contactInput.safeParse(input)
    const issues = parsed.success ? checkFields(catalog, parsed.data.fields ?? {}).issues : issuesOf(parsed.error.issues).issues
    for (const issue of issues) fault(columnAt(issue.path, columnOf), issue.message)
    if (unread.length === 0 && issues.length === 0) inputs.push(input)
  })
  return { rows: rows.length, inputs, errors }
}

/** The column a contact's path (`email`, `fields.birthDate`) came from. */
const columnAt = (path: string, columnOf: ReadonlyMap<string, string>) => columnOf.get(path.replace(/^fields\./, '').split(/[.[]/)[0]) ?? null

/** A row the plan refused, as the import reports it: one error for each field path at fault. */
function rowErrors(e: RowError, row: number, columnOf: ReadonlyMap<string, string>): ImportRowError[] {
  const paths = e.issues?.length ? e.issues : [{ path: e.field ?? '', message: e.message }]
  return paths.map((i) => ({ row, column: columnAt(i.path, columnOf), code: e.code, message: i.message }))
}

/**
 * Writes one staged chunk (the queue's `import` message), all or nothing: read again at the Worker from
 * its text, against the site's fields as they are now, then planned and written as a batch upsert; with
 * the import's segment, every contact joins it in the same transaction. What it came to is recorded on
 * the chunk, whose text is dropped. A chunk settled already (a message delivered twice) is left alone.
 */
export async function writeImportChunk(env: Env, m: ImportMessage, now = Date.now()): Promise<void> {
  const found = await importChunk(env.DB, m.siteId, m.importId, m.seq)
  if (!found) return
  const { import: imp, chunk } = found
  const csv = chunk.csv
  if (chunk.status !== 'queued' || csv === null) return
  const site = await getSite(env.DB, m.siteId)
  if (!site) return
  // A site moving to other shards takes no writes until it has arrived: the message is retried later.
  if (site.movingTo) throw new Error(`site ${site.id} is moving; chunk ${chunk.seq} of import ${imp.id} waits`)
  const settle = async (o: ChunkOutcome) => void (await settleChunk(env.DB, site.id, imp.id, chunk.seq, o).run())
  const refuseAll = (code: string, message: string) => settle({ status: 'failed', refused: chunk.rows, errors: [{ row: chunk.firstRow, column: null, code, message }] })
  if (imp.segmentId !== null) {
    const segment = await getSegment(env.DB, site.id, imp.segmentId)
    if (segment?.type !== 'static') return refuseAll('segment_gone', `The segment "${imp.segmentId}" this import adds contacts to is gone (or no longer static): nothing of this chunk was written`)
  }
  let read: ReturnType<typeof readChunk>
  try {
    read = readChunk(csv, imp.columns, new FieldCatalog(site.fields), chunk.firstRow)
  } catch (err) {
    if (err instanceof Refusal) return refuseAll(err.code, err.message)
    throw err
  }
  if (read.errors.length > 0) return settle({ status: 'failed', refused: new Set(read.errors.map((e) => e.row)).size, errors: read.errors })
  const changes = new Changes()
  const result = await importRows(env, site, read.inputs, changes, { segment: imp.segmentId ?? undefined, rowName: (i) => `Row ${chunk.firstRow + i}`, now })
  if (result.errors.length > 0) {
    const columnOf = new Map(imp.columns.flatMap((c) => (c.field === null ? [] : [[c.field, c.name] as const])))
    return settle({ status: 'failed', refused: result.errors.length, errors: result.errors.flatMap((e) => rowErrors(e, chunk.firstRow + e.index, columnOf)) })
  }
  // Snapshot rebuilds are queued before the chunk is marked written: a failure between the two writes it again.
  await propagate(env, changes)
  await settle({ status: 'written', created: result.created, updated: result.updated })
}
