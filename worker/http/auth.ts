/**
 * The admin API's token check: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time by
 * `sameSecret`, which the console's sign-in uses too.
 */
import { type MiddlewareHandler } from 'hono'
import { refuse } from './errors'

/**
 * Requires `Authorization: Bearer <ADMIN_TOKEN>`. The comparison takes the same time wherever the
 * strings differ, so the token cannot be guessed one character at a time.
 */
export function adminAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const token = header.startsWith('Bearer ') ? header.slice(7) : ''
    if (!c.env.ADMIN_TOKEN || !(await sameSecret(token, c.env.ADMIN_TOKEN))) {
      throw refuse('unauthorized', 'unauthorized', 'Send the admin token as "Authorization: Bearer <token>"')
    }
    await next()
  }
}

/** Constant-time equality of two secrets, by comparing their SHA-256 digests. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder()
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(a)),
    crypto.subtle.digest('SHA-256', enc.encode(b)),
  ])
  return crypto.subtle.timingSafeEqual(da, db)
}
