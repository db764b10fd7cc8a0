import { type MiddlewareHandler } from 'hono'
import { type AppEnv } from '../app-env'
import { publishSiteConfig } from './config'

/**
 * After a successful change to a site, its segments, content or workflows — through the admin API or the
 * console alike — the site's compiled config is rebuilt from D1 and published to KV, so the edge decides
 * with it within seconds. Reads and previews change nothing and publish nothing.
 */
export function publishAfterChange<E extends AppEnv>(): MiddlewareHandler<E> {
  return async (c, next) => {
    await next()
    if (c.req.method === 'GET' || c.res.status >= 400 || c.req.path.endsWith('/preview')) return
    const site = c.get('site')
    if (site) await publishSiteConfig(c.env, site.id, site.key)
  }
}
