/**
 * Shapes many answers share: instants, lists, pages and the query that turns them. Answers have no zod
 * schema of their own in the routes (services shape them as plain objects), so these exist for the
 * document, and the test holds real answers against them.
 */
import { z } from '@hono/zod-openapi'
import { segmentListQuery } from '../segments/schema'

/** Every instant in an answer: ISO 8601, UTC, with milliseconds. */
export const instant = z.iso.datetime()

/** The two parameters every paged list takes: `segmentListQuery`'s own. */
export const pageQuery = segmentListQuery.pick({ cursor: true, limit: true })

/** A list of everything: `{ items }`. */
export const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) })

/** A page of a list: `{ items, nextCursor }`, the cursor to pass for the next page, or null after the last. */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last' }) })
