/**
 * The admin API's contacts, `/api/v1/sites/:site/contacts`: search, create (one or a batch), read, update,
 * merge, export and delete contacts; import them from a CSV and export a segment's or a search's as one;
 * list or import a contact's activities; list its segments, change its static ones, or ask why it is in a
 * dynamic one.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { type AppEnv } from '../app-env'
import { notWhileMoving } from '../background/move'
import { getContact, searchAcross } from '../data/contacts'
import { listActivities } from '../data/events'
import { keptIdentifiersOf } from '../data/identities'
import { notFound } from '../http/errors'
import { parse, readJson } from '../http/validate'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import {
  addToStaticSegment, explainMembership, removeFromStaticSegment,
} from '../segments/service'
import { contactsCsv, csvHeaders } from './export'
import { importRoutes } from './import-routes'
import { contactId, contactPatch, eventsImport } from './schema'
import {
  activityJson, contactExport, contactJson, contactSegments, eraseContact, importActivities, mergeContactInto, saveContact,
  upsertContacts,
} from './service'

const listQuery = z.object({
  q: z.string().trim().max(200).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

const mergeBody = z.strictObject({ into: contactId })

const batchBody = z.strictObject({ contacts: z.array(z.unknown()).min(1, 'send at least one contact') })

/** What a CSV export holds: a segment's members, a search's matches (both: the members it matches), or every contact. */
export const exportQuery = z.object({
  segment: z.string().max(64).optional(),
  q: z.string().trim().max(200).optional(),
})

export const contactsRoutes = new Hono<AppEnv>()
  // A site moving to other shards takes no changes to its contacts until it has arrived.
  .use('*', notWhileMoving)
  .get('/', async (c) => {
    const query = parse(listQuery, c.req.query())
    const after = decodeCursor(query.cursor, 2) as [number, string] | undefined
    const page = await searchAcross(c.get('data'), { q: query.q || undefined, after, limit: query.limit })
    return c.json({ items: page.contacts.map(contactJson), nextCursor: page.last ? encodeCursor(page.last) : null })
  })
  .post('/', async (c) => {
    const contact = await saveContact(c.env, c.get('site'), await readJson(c, z.unknown()), 'create', c.get('changes'))
    return c.json(contactJson(contact), 201)
  })
  // Before '/:id'. No contact id holds a '.'; a contact whose id is 'imports' is still read, changed and
  // erased at its own address, the paths below it being the imports'.
  .route('/imports', importRoutes)
  .get('/export.csv', async (c) => {
    const query = parse(exportQuery, c.req.query())
    const { stream, filename } = await contactsCsv(c.env, c.get('site'), { segment: query.segment, q: query.q || undefined })
    return c.body(stream, 200, csvHeaders(filename))
  })
  .post('/batch', async (c) => {
    const body = await readJson(c, batchBody)
    const result = await upsertContacts(c.env, c.get('site'), body.contacts, c.get('changes'))
    return c.json(result)
  })
  .get('/:id', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) throw notFound('contact', c.req.param('id'))
    const [segments, kept] = await Promise.all([contactSegments(c.env, site, contact.id), keptIdentifiersOf(c.get('data').of(contact.id), site.id, contact.id)])
    return c.json({ ...contactJson(contact), otherIdentifiers: kept.map((k) => ({ ...k, since: new Date(k.since).toISOString() })), segments })
  })
  .patch('/:id', async (c) => {
    const patch = await readJson(c, contactPatch)
    const contact = await saveContact(c.env, c.get('site'), { ...patch, id: c.req.param('id') }, 'update', c.get('changes'))
    return c.json({ ...contactJson(contact), segments: await contactSegments(c.env, c.get('site'), contact.id) })
  })
  .delete('/:id', async (c) => {
    await eraseContact(c.env, c.get('site'), c.req.param('id'))
    return c.body(null, 204)
  })
  .post('/:id/merge', async (c) => {
    const { into } = await readJson(c, mergeBody)
    const contact = await mergeContactInto(c.env, c.get('site'), c.req.param('id'), into, c.get('changes'))
    return c.json({ ...contactJson(contact), segments: await contactSegments(c.env, c.get('site'), contact.id) })
  })
  .get('/:id/export', async (c) => {
    const id = c.req.param('id')
    c.header('content-disposition', `attachment; filename="contact-${id}.json"`)
    return c.body(await contactExport(c.env, c.get('site'), id), 200, { 'content-type': 'application/json; charset=utf-8' })
  })
  .get('/:id/events', async (c) => {
    const site = c.get('site')
    const query = parse(listQuery.omit({ q: true }), c.req.query())
    if (!(await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id')))) throw notFound('contact', c.req.param('id'))
    const before = decodeCursor(query.cursor, 2) as [number, string] | undefined
    const events = await listActivities(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'), { before, limit: query.limit + 1 })
    const page = events.slice(0, query.limit)
    const tail = page[page.length - 1]
    return c.json({
      items: page.map(activityJson),
      nextCursor: events.length > query.limit && tail ? encodeCursor([tail.at, tail.id]) : null,
    })
  })
  .post('/:id/events', async (c) => {
    const body = await readJson(c, eventsImport)
    const result = await importActivities(c.env, c.get('site'), c.req.param('id'), body.events, c.get('changes'))
    return c.json(result)
  })
  .get('/:id/segments', async (c) => {
    const site = c.get('site')
    if (!(await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id')))) throw notFound('contact', c.req.param('id'))
    return c.json({ items: await contactSegments(c.env, site, c.req.param('id')) })
  })
  .put('/:id/segments/:segment', async (c) => {
    await addToStaticSegment(c.env, c.get('site'), c.req.param('id'), c.req.param('segment'), c.get('changes'))
    return c.json({ items: await contactSegments(c.env, c.get('site'), c.req.param('id')) })
  })
  .delete('/:id/segments/:segment', async (c) => {
    await removeFromStaticSegment(c.env, c.get('site'), c.req.param('id'), c.req.param('segment'), c.get('changes'))
    return c.json({ items: await contactSegments(c.env, c.get('site'), c.req.param('id')) })
  })
  .get('/:id/segments/:segment/explain', async (c) =>
    c.json(await explainMembership(c.env, c.get('site'), c.req.param('id'), c.req.param('segment'))))
