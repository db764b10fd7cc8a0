/**
 * The admin API's segments, `/api/v1/sites/:site/segments`: list, create, preview, read, update and delete
 * segments, page through a segment's members, and read its trend and uses.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { type AppEnv } from '../app-env'
import { notWhileMoving } from '../background/move'
import { contactJson } from '../contacts/service'
import { membersAcross } from '../data/members'
import { allSegments, getSegment, listSegments } from '../data/segments'
import { notFound } from '../http/errors'
import { parse, readJson } from '../http/validate'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import { segmentCreate, segmentListQuery, segmentPatch, segmentPreview, trendQuery } from './schema'
import { segmentTrend, segmentUses } from './trends'
import { createSegment, previewSegment, removeSegment, segmentJson, segmentWithCount, summarizer, updateSegment, withCounts } from './service'

const membersQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

export const segmentsRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const query = parse(segmentListQuery, c.req.query())
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined
    const [page, segments] = await Promise.all([
      listSegments(c.env.DB, site.id, { type: query.type, q: query.q || undefined, after, limit: query.limit }),
      allSegments(c.env.DB, site.id),
    ])
    const summary = summarizer(site, segments)
    const counted = await withCounts(c.get('data'), page.segments)
    return c.json({ items: counted.map((s) => segmentJson(s, summary(s.conditions))), nextCursor: page.last ? encodeCursor(page.last) : null })
  })
  // Creating, changing or removing a segment writes its members on the site's shards: not while it moves.
  .post('/', notWhileMoving, async (c) => {
    const { segment, backfill, summarize } = await createSegment(c.env, c.get('site'), await readJson(c, segmentCreate), c.get('changes'))
    return c.json({ ...segmentJson(segment, summarize(segment.conditions)), backfill }, 201)
  })
  .post('/preview', async (c) => {
    const body = await readJson(c, segmentPreview)
    return c.json(await previewSegment(c.env, c.get('site'), body.conditions, body))
  })
  .get('/:id', async (c) => {
    const site = c.get('site')
    const segment = await segmentWithCount(c.env, site, c.req.param('id'))
    if (!segment) throw notFound('segment', c.req.param('id'))
    return c.json(segmentJson(segment, summarizer(site, await allSegments(c.env.DB, site.id))(segment.conditions)))
  })
  .patch('/:id', notWhileMoving, async (c) => {
    const { segment, backfill, summarize } = await updateSegment(c.env, c.get('site'), c.req.param('id'), await readJson(c, segmentPatch), c.get('changes'))
    return c.json({ ...segmentJson(segment, summarize(segment.conditions)), backfill })
  })
  .delete('/:id', notWhileMoving, async (c) => {
    await removeSegment(c.env, c.get('site'), c.req.param('id'), c.get('changes'))
    return c.body(null, 204)
  })
  .get('/:id/trend', async (c) => {
    const { days } = parse(trendQuery, c.req.query())
    const site = c.get('site')
    // Who reads it first: it answers 404 for a segment that does not exist.
    const usedBy = await segmentUses(c.env.DB, site, c.req.param('id'))
    return c.json({ segment: c.req.param('id'), days: await segmentTrend(c.env, site, c.req.param('id'), days), usedBy })
  })
  .get('/:id/contacts', async (c) => {
    const site = c.get('site')
    const query = parse(membersQuery, c.req.query())
    if (!(await getSegment(c.env.DB, site.id, c.req.param('id')))) throw notFound('segment', c.req.param('id'))
    const after = decodeCursor(query.cursor, 1)?.[0] as string | undefined
    const page = await membersAcross(c.get('data'), c.req.param('id'), { after, limit: query.limit })
    return c.json({
      items: page.members.map((m) => ({ ...contactJson(m.contact), since: new Date(m.since).toISOString(), source: m.source })),
      nextCursor: page.last ? encodeCursor([page.last]) : null,
    })
  })
