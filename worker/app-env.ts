/**
 * Hono's environment for Segue's routers: the Worker bindings, the site a scoped route works on, and
 * the changes its services record (propagated to the edge once the request is answered).
 */
import { type Site } from './data/sites'
import { type Changes } from './background/changes'
import { type SiteData } from './data/shards'

export interface AppEnv {
  Bindings: Env
  Variables: { site: Site; data: SiteData; changes: Changes }
}
