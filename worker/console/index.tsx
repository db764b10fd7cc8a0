/**
 * The admin console at /admin: server-rendered pages (Hono JSX) over the same services as the admin
 * API, each page with only the script it needs.
 */
import { siteData } from '../data/shards'
import { siteMoving } from '../background/move'
import { Hono, type MiddlewareHandler } from 'hono'
import { getSite } from '../data/sites'
import { propagateChanges } from '../background/changes'
import { apiReferenceRoutes } from './api-reference'
import { authRoutes } from './auth'
import { contactRoutes } from './contacts'
import { contentRoutes } from './content'
import { deadLetterRoutes } from './dead-letters'
import { consoleHeaders } from './headers'
import { Alert, DOCTYPE, EmptyState, Layout, PageHeader, consoleLayout } from './layout'
import { type ConsoleEnv, requireSession } from './session'
import { segmentRoutes } from './segments'
import { overviewRoutes, siteRoutes } from './sites'
import { workflowRoutes } from './workflows'

const loadSite: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const site = await getSite(c.env.DB, c.req.param('site') ?? '')
  if (!site) return c.notFound()
  c.set('site', site)
  c.set('data', siteData(c.env, site))
  await next()
}

/** A change to a moving site's contacts or segments is answered with a page saying why (409), as the API does. */
const notWhileMovingPage: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const site = c.get('site')
  if (!site.movingTo || c.req.method === 'GET' || c.req.method === 'HEAD') return next()
  // The segment preview only reads: it stays available.
  if (c.req.path.endsWith('/segments/preview')) return next()
  c.status(409)
  return c.render(
    <>
      <PageHeader title="Not while the site moves" back={{ href: `/admin/sites/${site.id}`, label: site.name }} />
      <Alert message={siteMoving(site).message} />
    </>,
    { title: 'Site moving' },
  )
}

/** The frame the live preview renders content in, with the SDK's own renderer. */
function PreviewFrame() {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Preview</title>
        <style>{'body{margin:0;min-height:100vh;font:15px system-ui;background:repeating-linear-gradient(45deg,#f4f4f6,#f4f4f6 12px,#ececf0 12px,#ececf0 24px)}#slot{margin:24px;padding:16px;background:#fff;border-radius:8px}'}</style>
      </head>
      <body>
        <div id="slot">Your page</div>
        <script src="/console/preview.js" defer />
      </body>
    </html>
  )
}

export const consoleApp = new Hono<ConsoleEnv>()
  .use('*', consoleHeaders)
  .use('*', consoleLayout)
  .route('/', authRoutes)
  .use('*', requireSession)
  .use('*', propagateChanges())
  .get('/preview', (c) => c.html(`${DOCTYPE}${<PreviewFrame />}`))
  .route('/', apiReferenceRoutes)
  .route('/', siteRoutes)
  .use('/sites/:site', loadSite)
  .use('/sites/:site/*', loadSite)
  .use('/sites/:site/contacts/*', notWhileMovingPage)
  .use('/sites/:site/segments/*', notWhileMovingPage)
  .route('/sites/:site', overviewRoutes)
  .route('/sites/:site/segments', segmentRoutes)
  .route('/sites/:site/contacts', contactRoutes)
  .route('/sites/:site/content', contentRoutes)
  .route('/sites/:site/workflows', workflowRoutes)
  .route('/sites/:site/dead-letters', deadLetterRoutes)

/**
 * The console's page for an address that leads nowhere. The app-wide not-found handler calls it, outside
 * the console's renderer, so it draws the Layout itself (as a signed-out page: no token, no site).
 */
export function consoleNotFound(): string {
  return `${DOCTYPE}${(
    <Layout title="Not found">
      <PageHeader title="Not found" />
      <div class="card">
        <EmptyState title="There is nothing here." action={{ href: '/admin', label: 'Back to the console' }}>
          The address may be mistyped, or what it led to was deleted.
        </EmptyState>
      </div>
    </Layout>
  )}`
}
