/** The Worker's HTTP side: the browser's /v1/events, the /demo page, the admin API and the console. */
import { Hono } from 'hono'
import { adminApi } from './api'
import { consoleApp, consoleNotFound } from './console'
import { type AppEnv } from './app-env'
import { demoRoutes } from './demo/page'
import { eventsRoutes } from './visits/events-route'
import { refuse, onError } from './http/errors'

export const app = new Hono<AppEnv>()
  // For load balancers and uptime checks: answers without touching any binding.
  .get('/health', (c) => c.text('ok'))
  .route('/', eventsRoutes)
  .route('/', demoRoutes)
  .route('/api/v1', adminApi)
  .route('/admin', consoleApp)
  .notFound((c) => {
    // Only addresses inside the console, which its middleware (security headers) has seen; '/adminx' is not.
    if (c.req.path === '/admin' || c.req.path.startsWith('/admin/')) return c.html(consoleNotFound(), 404)
    throw refuse('not_found', 'not_found', 'Not found')
  })
  .onError(onError)
