/**
 * The console's sign-in and sign-out: the admin token exchanged for a session (./session.ts), every attempt
 * rate-limited by address, and only a plain path of this console followed after signing in. Where
 * Cloudflare Access is on, it signs people in instead: the sign-in page leads on to the console, the admin
 * token is not taken, and signing out ends the Access session too.
 */
import { type Context, Hono } from 'hono'
import { accessSettings } from '../http/access'
import { sameSecret } from '../http/auth'
import { Refusal, refuse } from '../http/errors'
import { Alert, PageHeader } from './layout'
import { refusedPage } from './refused'
import { type ConsoleEnv, endSession, readSession, requireSession, startSession } from './session'

// Printable ASCII only: a CR or LF would split the Location header, a space or a non-ASCII letter is not
// what the console ever links to.
const PLAIN_CONSOLE_PATH = /^\/admin(?:[/?#][!-~]*)?$/
const RESOLVE_BASE = 'https://console.invalid'
// Without cf-connecting-ip (wrangler dev, tests) every attempt shares one bucket.
const UNKNOWN_CLIENT = 'unknown-client'
// Served by Cloudflare Access on every hostname it protects: ends the person's Access session.
const ACCESS_LOGOUT = '/cdn-cgi/access/logout'

/** Whether Access signs people in; its settings' refusal (one var without the other) is thrown. */
const accessOn = (c: Context<ConsoleEnv>) => accessSettings(c.env) !== undefined

/**
 * Where to go after signing in: `next` if it is a plain path of this console, else `/admin`. Backslashes,
 * `//` and dot segments could lead off the console or off the origin, so they are refused too.
 *
 * @example
 * safeNext('/admin/sites/shop?tab=1') // '/admin/sites/shop?tab=1'
 * safeNext('//evil.example/admin')    // '/admin'
 */
function safeNext(next: string | undefined): string {
  if (!next || !PLAIN_CONSOLE_PATH.test(next) || next.includes('\\')) return '/admin'
  // Browsers resolve a Location the same way: a value that resolving changes (dot segments, percent-encoded
  // ones too) is not a plain path.
  const url = new URL(next, RESOLVE_BASE)
  const plain = `${url.pathname}${url.search}${url.hash}` === next && !url.pathname.includes('//')
  return plain ? next : '/admin'
}

function signInPage(c: Context<ConsoleEnv>, p: { next: string; error?: string }) {
  return c.render(
    <div class="narrow sign-in">
      <PageHeader title="Sign in to Segue" />
      <form method="post" action="/admin/sign-in" class="card">
        <Alert message={p.error} />
        <input type="hidden" name="next" value={p.next} />
        <div class="field">
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required aria-describedby="token-hint" />
          <div class="hint" id="token-hint">The ADMIN_TOKEN secret of this Segue deployment.</div>
        </div>
        <button type="submit">Sign in</button>
      </form>
    </div>,
    { title: 'Sign in' },
  )
}

export const authRoutes = new Hono<ConsoleEnv>()
  .get('/sign-in', async (c) => {
    const next = safeNext(c.req.query('next'))
    // With Access, the page asked for signs the person in (or says why not).
    if (accessOn(c) || (await readSession(c))) return c.redirect(next, 303)
    return signInPage(c, { next })
  })
  .post('/sign-in', async (c) => {
    if (accessOn(c)) {
      throw refuse('forbidden', 'access_only', 'This console signs people in with Cloudflare Access: the admin token is not taken here. It still works for the admin API.')
    }
    const form = await c.req.parseBody()
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined)
    // Every attempt counts, right or wrong: the limiter cannot be asked without being charged.
    const { success } = await c.env.RATE_SIGN_IN.limit({ key: c.req.header('cf-connecting-ip') ?? UNKNOWN_CLIENT })
    if (!success) {
      c.header('Retry-After', '60')
      c.status(429)
      return signInPage(c, { next, error: 'Too many sign-in attempts from your address: wait a minute, then try again.' })
    }
    const token = typeof form.token === 'string' ? form.token : ''
    if (!c.env.ADMIN_TOKEN || !(await sameSecret(token, c.env.ADMIN_TOKEN))) {
      c.status(401)
      return signInPage(c, { next, error: 'That is not the admin token of this deployment.' })
    }
    await startSession(c)
    return c.redirect(next, 303)
  })
  .post('/sign-out', requireSession, async (c) => {
    await endSession(c, c.get('session'))
    return c.redirect(c.get('session').email === undefined ? '/admin/sign-in' : ACCESS_LOGOUT, 303)
  })
  .onError((error, c) => {
    if (error instanceof Refusal) return refusedPage(c, error)
    throw error
  })
