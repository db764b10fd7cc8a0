/**
 * The admin API's sites, `/api/v1/sites`: list, create, read and update sites, rotate a site's identity
 * secret, and move a site's contact data to other shards (or call a move off). The `:site` routes find
 * their site in api.ts's loadSite first.
 */
import { Hono } from 'hono'
import { type AppEnv } from '../app-env'
import { startMove, stopMove } from '../background/move'
import { listSites } from '../data/sites'
import { readJson } from '../http/validate'
import { siteCreate, siteMove, sitePatch } from './schema'
import { createSite, identitySecretJson, rotateIdentitySecret, siteJson, updateSite } from './service'

export const sitesRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json({ items: (await listSites(c.env.DB)).map((s) => siteJson(s)) }))
  .post('/', async (c) => {
    const site = await createSite(c.env, await readJson(c, siteCreate), c.get('changes'))
    return c.json(siteJson(site, { revealSecret: true }), 201)
  })
  .get('/:site', (c) => c.json(siteJson(c.get('site'))))
  .patch('/:site', async (c) => c.json(siteJson(await updateSite(c.env.DB, c.get('site'), await readJson(c, sitePatch), c.get('changes')))))
  .post('/:site/identity-secret', async (c) => c.json(identitySecretJson(await rotateIdentitySecret(c.env.DB, c.get('site'), c.get('changes')), true)))
  .post('/:site/move', async (c) => {
    const { shards } = await readJson(c, siteMove)
    return c.json(siteJson(await startMove(c.env, c.get('site'), shards, c.get('changes'))), 202)
  })
  .delete('/:site/move', async (c) => c.json(siteJson(await stopMove(c.env, c.get('site'), c.get('changes')))))
