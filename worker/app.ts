import { Hono } from 'hono'
import { adminApi } from './api'
import { type AppEnv } from './app-env'
import { apiError, onError } from './http/errors'

/** The Worker's HTTP side: the admin API under /api/v1. */
export const app = new Hono<AppEnv>()
  .route('/api/v1', adminApi)
  .notFound(() => {
    throw apiError(404, 'not_found', 'Not found')
  })
  .onError(onError)
