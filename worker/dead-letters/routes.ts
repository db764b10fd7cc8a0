/**
 * The admin API's dead letters, `/api/v1/sites/:site/dead-letters`: queue messages that could not be
 * written, or only in part, listed newest first, replayed or dismissed.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { type AppEnv } from '../app-env'
import { deadLettersOf } from '../data/dead-letters'
import { parse } from '../http/validate'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import { deadLetterJson, dismissDeadLetter, replayDeadLetter } from './service'

const listQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

export const deadLettersRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const query = parse(listQuery, c.req.query())
    const before = decodeCursor(query.cursor, 2) as [number, string] | undefined
    const page = await deadLettersOf(c.env.DB, c.get('site').id, { before, limit: query.limit })
    return c.json({ items: page.items.map(deadLetterJson), nextCursor: page.last ? encodeCursor(page.last) : null })
  })
  .post('/:id/replay', async (c) => {
    await replayDeadLetter(c.env, c.get('site'), c.req.param('id'))
    return c.body(null, 204)
  })
  .delete('/:id', async (c) => {
    await dismissDeadLetter(c.env.DB, c.get('site'), c.req.param('id'))
    return c.body(null, 204)
  })
