import { type Site } from './data/sites'

/** Hono's environment for Segue's routers: the Worker bindings, and the site a scoped route works on. */
export interface AppEnv {
  Bindings: Env
  Variables: { site: Site }
}
