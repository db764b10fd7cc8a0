/**
 * The admin API's content, `/api/v1/sites/:site/content`: list, create, read, update and delete the
 * popups, slide-ins, bars and inline blocks that workflows show.
 */
import { Hono } from 'hono'
import { type AppEnv } from '../app-env'
import { getContent } from '../data/content'
import { notFound } from '../http/errors'
import { readJson } from '../http/validate'
import { contentCreate, contentPatch } from './schema'
import { allContent, contentJson, createContent, removeContent, updateContent } from './service'

export const contentRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json({ items: (await allContent(c.env.DB, c.get('site').id)).map(contentJson) }))
  .post('/', async (c) => c.json(contentJson(await createContent(c.env.DB, c.get('site'), await readJson(c, contentCreate), c.get('changes'))), 201))
  .get('/:id', async (c) => {
    const content = await getContent(c.env.DB, c.get('site').id, c.req.param('id'))
    if (!content) throw notFound('content', c.req.param('id'))
    return c.json(contentJson(content))
  })
  .patch('/:id', async (c) => c.json(contentJson(await updateContent(c.env.DB, c.get('site'), c.req.param('id'), await readJson(c, contentPatch), c.get('changes')))))
  .delete('/:id', async (c) => {
    await removeContent(c.env.DB, c.get('site'), c.req.param('id'), c.get('changes'))
    return c.body(null, 204)
  })
