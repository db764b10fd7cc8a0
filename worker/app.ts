import { Hono } from 'hono'
import { adminApi } from './api'
import { type AppEnv } from './app-env'
import { demoRoutes } from './demo/page'
import { eventsRoutes } from './edge/events-route'
import { apiError, onError } from './http/errors'

/** The Worker's HTTP side: the browser's /v1/events, the /demo page and the admin API under /api/v1. */
export const app = new Hono<AppEnv>()
  .route('/', eventsRoutes)
  .route('/', demoRoutes)
  .route('/api/v1', adminApi)
  .notFound(() => {
    throw apiError(404, 'not_found', 'Not found')
  })
  .onError(onError)
