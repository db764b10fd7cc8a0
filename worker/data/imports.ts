/**
 * CSV imports and their chunks (migration 0018), in the control database: an import as it was created,
 * chunks staged in order until the queue writes them, and what each came to.
 */
import { type ImportColumn, type ImportRowError } from '../contacts/csv'

export interface Import {
  id: string
  siteId: string
  name: string
  columns: ImportColumn[]
  segmentId: string | null
  totalRows: number
  nextSeq: number
  receivedRows: number
  finishedAt: number | null
  createdAt: number
}

interface ImportRow {
  site_id: string
  id: string
  name: string
  columns: string
  segment_id: string | null
  total_rows: number
  next_seq: number
  received_rows: number
  finished_at: number | null
  created_at: number
}

const toImport = (r: ImportRow): Import => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  columns: JSON.parse(r.columns),
  segmentId: r.segment_id,
  totalRows: r.total_rows,
  nextSeq: r.next_seq,
  receivedRows: r.received_rows,
  finishedAt: r.finished_at,
  createdAt: r.created_at,
})

export type ChunkStatus = 'queued' | 'written' | 'failed'

/** A chunk as staged: its rows' place in the import, and its text while it waits to be written. */
export interface Chunk {
  seq: number
  firstRow: number
  rows: number
  digest: string
  csv: string | null
  status: ChunkStatus
  /** Why its rows were refused, when it failed. */
  errors: ImportRowError[]
}

interface ChunkRow {
  seq: number
  first_row: number
  rows: number
  digest: string
  csv: string | null
  status: ChunkStatus
  errors: string | null
}

const CHUNK_COLUMNS = 'seq, first_row, rows, digest, csv, status, errors'

const toChunk = (r: ChunkRow): Chunk => ({ seq: r.seq, firstRow: r.first_row, rows: r.rows, digest: r.digest, csv: r.csv, status: r.status, errors: r.errors ? JSON.parse(r.errors) : [] })

export function insertImport(db: D1Database, i: Omit<Import, 'nextSeq' | 'receivedRows' | 'finishedAt'>): D1PreparedStatement {
  return db
    .prepare('INSERT INTO imports (site_id, id, name, columns, segment_id, total_rows, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)')
    .bind(i.siteId, i.id, i.name, JSON.stringify(i.columns), i.segmentId, i.totalRows, i.createdAt)
}

export async function getImport(db: D1Database, siteId: string, id: string): Promise<Import | undefined> {
  const row = await db.prepare('SELECT * FROM imports WHERE site_id = ?1 AND id = ?2').bind(siteId, id).first<ImportRow>()
  return row ? toImport(row) : undefined
}

/** A site's most recent imports, newest first. */
export async function recentImports(db: D1Database, siteId: string, limit: number): Promise<Import[]> {
  const { results } = await db
    .prepare('SELECT * FROM imports INDEXED BY imports_created WHERE site_id = ?1 ORDER BY created_at DESC LIMIT ?2')
    .bind(siteId, limit)
    .all<ImportRow>()
  return results.map(toImport)
}

/** What a chunk came to: written (with the contacts it created and updated) or refused (with its rows' errors). */
export type ChunkOutcome =
  | { status: 'written'; created: number; updated: number }
  | { status: 'failed'; refused: number; errors: ImportRowError[] }

/** Errors kept a chunk: enough to fix a file by, few enough to read. */
export const ERRORS_KEPT = 100

/**
 * Stages chunk `seq` of an import, in one transaction: taken only as the chunk the import expects next and
 * within the rows it announced, numbered after the rows before it; the import then expects the next. The
 * last statement reads back what is stored at `seq` — this chunk, or one staged before under that number.
 * `outcome` settles a chunk refused at the door; without it the chunk waits for the queue.
 */
export function stageChunk(
  db: D1Database,
  siteId: string,
  importId: string,
  chunk: { seq: number; rows: number; digest: string; csv: string; outcome?: ChunkOutcome },
  now: number,
): D1PreparedStatement[] {
  const o = chunk.outcome
  return [
    db
      .prepare(
        `INSERT INTO import_chunks (site_id, import_id, seq, first_row, rows, digest, csv, status, refused, errors, created_at)
         SELECT ?1, ?2, ?3, i.received_rows + 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM imports i
         WHERE i.site_id = ?1 AND i.id = ?2 AND i.next_seq = ?3 AND i.finished_at IS NULL AND i.received_rows + ?4 <= i.total_rows
         ON CONFLICT DO NOTHING`,
      )
      .bind(siteId, importId, chunk.seq, chunk.rows, chunk.digest, o ? null : chunk.csv, o?.status ?? 'queued', o?.status === 'failed' ? o.refused : 0, o?.status === 'failed' ? JSON.stringify(o.errors.slice(0, ERRORS_KEPT)) : null, now),
    db
      .prepare(
        `UPDATE imports SET next_seq = next_seq + 1, received_rows = received_rows + ?4
         WHERE site_id = ?1 AND id = ?2 AND next_seq = ?3
           AND EXISTS (SELECT 1 FROM import_chunks WHERE site_id = ?1 AND import_id = ?2 AND seq = ?3 AND digest = ?5)`,
      )
      .bind(siteId, importId, chunk.seq, chunk.rows, chunk.digest),
    chunkAt(db, siteId, importId, chunk.seq),
  ]
}

const chunkAt = (db: D1Database, siteId: string, importId: string, seq: number) =>
  db.prepare(`SELECT ${CHUNK_COLUMNS} FROM import_chunks WHERE site_id = ?1 AND import_id = ?2 AND seq = ?3`).bind(siteId, importId, seq)

/** The chunk staged at `seq`, if any. */
export async function getChunk(db: D1Database, siteId: string, importId: string, seq: number): Promise<Chunk | undefined> {
  const row = await chunkAt(db, siteId, importId, seq).first<ChunkRow>()
  return row ? toChunk(row) : undefined
}

/** The chunk staged at `seq`, read from the results of `stageChunk`'s statements. */
export const stagedChunk = (results: D1Result[]): Chunk | undefined => {
  const row = results[2]?.results[0] as ChunkRow | undefined
  return row && toChunk(row)
}

/** An import and one of its chunks, in one read: what the queue needs to write the chunk. */
export async function importChunk(db: D1Database, siteId: string, importId: string, seq: number): Promise<{ import: Import; chunk: Chunk } | undefined> {
  const row = await db
    .prepare(
      `SELECT i.*, ${CHUNK_COLUMNS.split(', ').map((c) => `c.${c}`).join(', ')} FROM imports i
       JOIN import_chunks c ON c.site_id = i.site_id AND c.import_id = i.id AND c.seq = ?3
       WHERE i.site_id = ?1 AND i.id = ?2`,
    )
    .bind(siteId, importId, seq)
    .first<ImportRow & ChunkRow>()
  return row ? { import: toImport(row), chunk: toChunk(row) } : undefined
}

/** Records what a waiting chunk came to and drops its text; a chunk settled already is left alone. */
export function settleChunk(db: D1Database, siteId: string, importId: string, seq: number, o: ChunkOutcome): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE import_chunks SET status = ?4, csv = NULL, created = ?5, updated = ?6, refused = ?7, errors = ?8
       WHERE site_id = ?1 AND import_id = ?2 AND seq = ?3 AND status = 'queued'`,
    )
    .bind(siteId, importId, seq, o.status, o.status === 'written' ? o.created : 0, o.status === 'written' ? o.updated : 0, o.status === 'failed' ? o.refused : 0, o.status === 'failed' ? JSON.stringify(o.errors.slice(0, ERRORS_KEPT)) : null)
}

/** No more chunks come: the import is finished once those it has are written or refused. */
export function finishImport(db: D1Database, siteId: string, id: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE imports SET finished_at = ?3 WHERE site_id = ?1 AND id = ?2 AND finished_at IS NULL').bind(siteId, id, now)
}

/** An import's chunks summed by status: how many, their rows, the contacts created and updated, the rows refused. */
export interface ChunkTotals {
  chunks: number
  rows: number
  created: number
  updated: number
  refused: number
}

/** An import's chunks summed by status, and the errors of its first failed chunks. */
export interface ImportProgress {
  totals: Record<ChunkStatus, ChunkTotals>
  errors: ImportRowError[]
}

/** The progress of an import no chunk has reached yet. */
export function noProgress(): ImportProgress {
  const empty = (): ChunkTotals => ({ chunks: 0, rows: 0, created: 0, updated: 0, refused: 0 })
  return { totals: { queued: empty(), written: empty(), failed: empty() }, errors: [] }
}

/**
 * How far an import has come, in one call: its chunks summed by status, and the errors of the first
 * failed chunks (up to `errorChunks` of them), each read through the import's own keys.
 */
export async function importProgress(db: D1Database, siteId: string, id: string, errorChunks: number): Promise<ImportProgress> {
  const [sums, failed] = await db.batch([
    db
      .prepare(
        `SELECT status, count(*) AS chunks, sum(rows) AS rows, sum(created) AS created, sum(updated) AS updated, sum(refused) AS refused
         FROM import_chunks WHERE site_id = ?1 AND import_id = ?2 GROUP BY status`,
      )
      .bind(siteId, id),
    db.prepare(`SELECT errors FROM import_chunks WHERE site_id = ?1 AND import_id = ?2 AND status = 'failed' ORDER BY seq LIMIT ?3`).bind(siteId, id, errorChunks),
  ])
  const { totals } = noProgress()
  for (const r of sums.results as Array<ChunkTotals & { status: ChunkStatus }>) totals[r.status] = { chunks: r.chunks, rows: r.rows, created: r.created, updated: r.updated, refused: r.refused }
  const errors = (failed.results as Array<{ errors: string | null }>).flatMap((r) => (r.errors ? (JSON.parse(r.errors) as ImportRowError[]) : []))
  return { totals, errors }
}

/**
 * Puts contacts in a static segment by hand (an import's "Add to Segment"), one statement for them all;
 * a contact already in it keeps its own since and source.
 */
export function joinSegment(db: D1Database, siteId: string, segmentId: string, contactIds: readonly string[], now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segment_members (site_id, segment_id, contact_id, since, source)
       SELECT ?1, ?2, value, ?3, 'manual' FROM json_each(?4) WHERE true
       ON CONFLICT DO NOTHING`,
    )
    .bind(siteId, segmentId, now, JSON.stringify(contactIds))
}
