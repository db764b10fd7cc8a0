/**
 * Contacts exported as CSV: a segment's members or a search's matches, every field of each, streamed. Each
 * shard is read a page at a time in contact id order (data/exports.ts) and the pages are merged in that
 * order as the stream is pulled, so an export holds a page a shard in memory, never the site.
 */
import { type Contact } from '../data/contacts'
import { type ExportFilter, exportPage } from '../data/exports'
import { getSegment } from '../data/segments'
import { siteData } from '../data/shards'
import { type Site } from '../data/sites'
import { notFound } from '../http/errors'
import { contactLine, csvLine, exportColumns } from './csv'

/** Contacts a page reads on one shard. */
const PAGE = 1000
/**
 * D1 queries one export may make: Cloudflare allows an invocation 1,000, and the request has made a few
 * before its stream starts. At a page of 1,000, an export holds up to about 900,000 contacts.
 */
export const EXPORT_QUERIES = 900

/** The byte-order mark: Excel reads a CSV file as UTF-8 only when it starts with one. */
const BOM = '\ufeff'

/** The headers of a CSV download. */
export const csvHeaders = (filename: string) => ({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` })

/** One shard's place in an export: the page read and how far into it the export is. */
interface ShardCursor {
  db: D1Database
  page: Contact[]
  at: number
  after: string
  done: boolean
}

/**
 * A CSV of the contacts `filter` keeps — a segment's members (404 when the site has no such segment), a
 * search's matches, or every contact — in contact id order, with the header line of `exportColumns`, and
 * the file name to offer. The stream fails (the download breaks off) rather than end early should it
 * need more queries than an invocation may make.
 *
 * @example
 * const { stream, filename } = await contactsCsv(env, site, { segment: 'seg_vip' })
 * return c.body(stream, 200, csvHeaders(filename))
 */
export async function contactsCsv(env: Env, site: Site, filter: ExportFilter, now = Date.now()): Promise<{ stream: ReadableStream<Uint8Array>; filename: string }> {
  if (filter.segment !== undefined && !(await getSegment(env.DB, site.id, filter.segment))) throw notFound('segment', filter.segment)
  const cursors: ShardCursor[] = siteData(env, site).shards.map((s) => ({ db: s.db, page: [], at: 0, after: '', done: false }))
  let queries = 0
  const refill = async (c: ShardCursor) => {
    if (++queries > EXPORT_QUERIES) throw new Error(`A CSV export stopped after ${EXPORT_QUERIES} D1 queries: export a segment or a narrower search`)
    c.page = await exportPage(c.db, site.id, filter, c.after, PAGE)
    c.at = 0
    c.done = c.page.length < PAGE
    if (c.page.length > 0) c.after = c.page[c.page.length - 1].id
  }
  const encoder = new TextEncoder()
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(BOM + csvLine(exportColumns(site))))
    },
    async pull(controller) {
      try {
        await Promise.all(cursors.filter((c) => c.at === c.page.length && !c.done).map(refill))
        // Merge while every shard not done has a contact at hand: the smallest id goes next.
        let text = ''
        for (;;) {
          if (cursors.some((c) => c.at === c.page.length && !c.done)) break
          const live = cursors.filter((c) => c.at < c.page.length)
          if (live.length === 0) {
            if (text) controller.enqueue(encoder.encode(text))
            controller.close()
            return
          }
          const next = live.reduce((a, b) => (b.page[b.at].id < a.page[a.at].id ? b : a))
          text += contactLine(site, next.page[next.at++])
        }
        controller.enqueue(encoder.encode(text))
      } catch (err) {
        console.error('CSV export failed', err)
        controller.error(err)
      }
    },
  })
  const day = new Date(now).toISOString().slice(0, 10)
  return { stream, filename: `${filter.segment ?? site.id}-${day}.csv` }
}
