/**
 * The admin API, `/api/v1`: every route behind the admin token, with what they all share — change
 * propagation after the handler, the body limit, and the site a `/sites/:site` route works on.
 */
import { siteData } from './data/shards'
import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { type AppEnv } from './app-env'
import { contactsRoutes } from './contacts/routes'
import { contentRoutes } from './content/routes'
import { deadLettersRoutes } from './dead-letters/routes'
import { propagateChanges } from './background/changes'
import { getSite } from './data/sites'
import { adminAuth } from './http/auth'
import { openApiDocument } from './openapi/document'
import { refuse, notFound } from './http/errors'
import { segmentsRoutes } from './segments/routes'
import { sitesRoutes } from './sites/routes'
import { workflowsRoutes } from './workflows/routes'

/** A batch of 1,000 contacts with their fields fits well inside this. */
export const ADMIN_BODY_LIMIT = 2 * 1024 * 1024

/** Finds the site a scoped route works on, or answers 404. */
const loadSite: MiddlewareHandler<AppEnv> = async (c, next) => {
  const site = await getSite(c.env.DB, c.req.param('site') ?? '')
  if (!site) throw notFound('site', c.req.param('site') ?? '')
  c.set('site', site)
  c.set('data', siteData(c.env, site))
  await next()
}

export const adminApi = new Hono<AppEnv>()
  .use('*', adminAuth())
  .use('*', propagateChanges())
  .use(
    '*',
    bodyLimit({
      maxSize: ADMIN_BODY_LIMIT,
      onError: () => {
        throw refuse('too_large', 'payload_too_large', `Request bodies are limited to ${ADMIN_BODY_LIMIT / 1024 / 1024} MB`)
      },
    }),
  )
  .use('/sites/:site', loadSite)
  .use('/sites/:site/*', loadSite)
  .get('/openapi.json', (c) => c.json(openApiDocument()))
  .route('/sites', sitesRoutes)
  .route('/sites/:site/contacts', contactsRoutes)
  .route('/sites/:site/segments', segmentsRoutes)
  .route('/sites/:site/content', contentRoutes)
  .route('/sites/:site/workflows', workflowsRoutes)
  .route('/sites/:site/dead-letters', deadLettersRoutes)
  .notFound(() => {
    throw refuse('not_found', 'not_found', 'No such route in the admin API')
  })
