/**
 * The admin API's token check, through the whole Worker: every route the app registers answers 401 without
 * the token or with a wrong one, and an unknown admin route answers 401 before 404.
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/app'

/** Every admin route the app registers, with its parameters filled in. */
const adminRoutes = app.routes
  .filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL')
  .map((r) => ({ method: r.method, path: r.path.replace(/:[a-z]+/g, 'x') }))

describe('admin API authentication', () => {
  it('registers the routes this test walks', () => {
    expect(adminRoutes.length).toBeGreaterThan(15)
  })

  it.each(adminRoutes)('$method $path answers 401 without the token', async ({ method, path }) => {
    const res = await exports.default.fetch(`http://segue.test${path}`, { method, body: method === 'GET' ? undefined : '{}' })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } })
  })

  it.each(adminRoutes)('$method $path answers 401 with a wrong token', async ({ method, path }) => {
    const res = await exports.default.fetch(`http://segue.test${path}`, { method, headers: { authorization: 'Bearer test-admin-tokeN' } })
    expect(res.status).toBe(401)
  })

  it('answers an unknown admin route with 401 before 404', async () => {
    const res = await exports.default.fetch('http://segue.test/api/v1/nothing-here')
    expect(res.status).toBe(401)
  })
})
