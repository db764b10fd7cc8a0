/**
 * Hono's environment for Segue's routers: the Worker bindings, the site a scoped route works on, and
 * the changes its services record (propagated to the edge once the request is answered).
 */
import { type Site } from './data/sites'
import { type Changes } from './background/changes'

export interface AppEnv {
  Bindings: Env
  Variables: { site: Site; changes: Changes }
}
