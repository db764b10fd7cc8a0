/**
 * A deployment with a missing, short or example secret refuses to run, rather than seal browser ids and
 * state tokens under a key anyone can derive.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../worker/index'

async function call(path: string, overrides: Partial<Env>, init: RequestInit = {}) {
  const ctx = createExecutionContext()
  const res = await worker.fetch!(new Request(`http://segue.test${path}`, init) as never, { ...env, SEGUE_ENV: '', ...overrides }, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

const strong = { ADMIN_TOKEN: 'a'.repeat(40), STATE_SECRET: 'b'.repeat(40) }

describe('secrets in production', () => {
  it.each([
    ['a missing STATE_SECRET', { STATE_SECRET: undefined }, /STATE_SECRET is not set/],
    ['a short STATE_SECRET', { STATE_SECRET: 'short-secret' }, /STATE_SECRET is shorter than 32 characters/],
    ['the example STATE_SECRET', { STATE_SECRET: 'dev-state-secret-change-me-0123456789abcdef' }, /STATE_SECRET is the example value/],
    ['the example ADMIN_TOKEN', { ADMIN_TOKEN: 'dev-admin-token' }, /ADMIN_TOKEN is the example value/],
  ])('refuse every request with %s, saying which', async (_name, weak, message) => {
    for (const [path, init] of [['/v1/events', { method: 'POST', body: '{}' }], ['/api/v1/sites', {}], ['/admin', {}]] as const) {
      const res = await call(path, { ...strong, ...weak } as Partial<Env>, init)
      expect(res.status, path).toBe(500)
      const body = await res.json<{ error: { code: string; message: string } }>()
      expect(body.error.code).toBe('misconfigured')
      expect(body.error.message).toMatch(message)
    }
  })

  it('let a well-configured deployment answer', async () => {
    expect((await call('/health', strong)).status).toBe(200)
  })

  it('let the local, example secrets through in development', async () => {
    expect((await call('/health', { ADMIN_TOKEN: 'dev-admin-token', STATE_SECRET: 'dev-state-secret-change-me-0123456789abcdef', SEGUE_ENV: 'development' })).status).toBe(200)
  })
})
