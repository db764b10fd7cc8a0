/**
 * Console sessions: signing in with the admin token sets an HttpOnly, SameSite=Strict cookie holding a
 * session id, an expiry and a CSRF token, signed with HMAC under a key derived from the admin token (so
 * rotating the token signs everyone out). Signing out marks the session id in KV until the session would
 * have expired, so the cookie is refused even if it was copied. Every form carries the CSRF token and
 * every POST checks it; console scripts send it in the x-csrf-token header.
 *
 * Where Cloudflare Access is on (../http/access.ts), every console request must carry an assertion Access
 * signed, and the session follows it: it holds the person's email, and a request whose assertion names
 * someone other than the cookie's session (or that has no session yet) starts a new one. The token
 * sign-in is off then; a request Access would not vouch for gets a page saying why (403).
 */
import { type Context, type MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { type AppEnv } from '../app-env'
import { type Site } from '../data/sites'
import { ASSERTION_HEADER, accessEmail, accessSettings } from '../http/access'
import { Refusal, refusalResponse } from '../http/errors'
import { fromBase64Url, toBase64Url } from '../lib/base64url'
import { refusedPage } from './refused'

export const SESSION_COOKIE = 'segue_console'
const SESSION_HOURS = 12

export interface Session {
  sid: string
  exp: number
  csrf: string
  /** Who Cloudflare Access signed in; absent for a session started with the admin token. */
  email?: string
}

/** The app's environment, with the signed-in session and, once a page has read it, the list of sites. */
export type ConsoleEnv = AppEnv & { Variables: AppEnv['Variables'] & { session: Session; sites?: Promise<Site[]> } }

async function hmacKey(token: string): Promise<CryptoKey> {
  const raw = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`segue-console-session:${token}`))
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
}

const randomId = () => toBase64Url(crypto.getRandomValues(new Uint8Array(18)))
const signedOutKey = (sid: string) => `console-signed-out:${sid}`
// KV refuses an expirationTtl below 60 seconds.
const MIN_KV_TTL_SECONDS = 60

// Any console context will do: only the bindings and the cookie are used.
export async function startSession(c: Context<any>, email?: string): Promise<Session> {
  const session: Session = { sid: randomId(), exp: Date.now() + SESSION_HOURS * 3_600_000, csrf: randomId(), ...(email === undefined ? {} : { email }) }
  const payload = toBase64Url(JSON.stringify(session))
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(c.env.ADMIN_TOKEN), new TextEncoder().encode(payload))
  setCookie(c, SESSION_COOKIE, `${payload}.${toBase64Url(new Uint8Array(mac))}`, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: new URL(c.req.url).protocol === 'https:',
    path: '/admin',
    maxAge: SESSION_HOURS * 3600,
  })
  return session
}

/** Ends a session for good: the cookie is cleared, and the session id is refused until it would have expired. */
export async function endSession(c: Context<ConsoleEnv>, session: Session): Promise<void> {
  const ttl = Math.max(MIN_KV_TTL_SECONDS, Math.ceil((session.exp - Date.now()) / 1000))
  await c.env.KV.put(signedOutKey(session.sid), '1', { expirationTtl: ttl })
  deleteCookie(c, SESSION_COOKIE, { path: '/admin' })
}

/** The cookie's session, unless it is forged, expired or signed out (one KV read once the cookie checks out). */
export async function readSession(c: Context<any>): Promise<Session | undefined> {
  const session = await verifiedSession(c)
  if (!session) return undefined
  return (await c.env.KV.get(signedOutKey(session.sid))) === null ? session : undefined
}

/** The session the cookie holds if its signature is right and it has not expired (sign-out not checked). */
async function verifiedSession(c: Context<any>): Promise<Session | undefined> {
  const cookie = getCookie(c, SESSION_COOKIE)
  if (!cookie || !c.env.ADMIN_TOKEN) return undefined
  const [payload, mac] = cookie.split('.')
  if (!payload || !mac) return undefined
  try {
    const ok = await crypto.subtle.verify('HMAC', await hmacKey(c.env.ADMIN_TOKEN), fromBase64Url(mac), new TextEncoder().encode(payload))
    if (!ok) return undefined
    const session = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as Session
    const valid =
      typeof session.sid === 'string' &&
      typeof session.exp === 'number' &&
      session.exp > Date.now() &&
      typeof session.csrf === 'string' &&
      (session.email === undefined || typeof session.email === 'string')
    return valid ? session : undefined
  } catch {
    return undefined
  }
}

/**
 * The session of whoever sends this request. Where Access is on, that is whoever the request's assertion
 * names: their session, or a new one. Throws the `Refusal` of an assertion Access would not vouch for, or
 * of Access settings that are not right.
 */
async function signedIn(c: Context<ConsoleEnv>): Promise<Session | undefined> {
  const access = accessSettings(c.env)
  if (!access) return readSession(c)
  const email = await accessEmail(c.req.header(ASSERTION_HEADER), access)
  const session = await readSession(c)
  return session?.email === email ? session : startSession(c, email)
}

/**
 * Requires a session: pages redirect to sign-in, console JSON calls answer 401 (where Access is on, a
 * request it would not vouch for is refused with 403 instead, saying why). Every request other than GET
 * and HEAD must carry the session's CSRF token (form field `_csrf` or header `x-csrf-token`).
 */
export const requireSession: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const wantsJson = c.req.header('accept')?.includes('application/json')
  let session: Session | undefined
  try {
    session = await signedIn(c)
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    return wantsJson ? refusalResponse(error) : refusedPage(c, error)
  }
  if (!session) {
    if (wantsJson) return c.json({ error: { code: 'unauthorized', message: 'Sign in again: your session has ended' } }, 401)
    const next = c.req.method === 'GET' ? `?next=${encodeURIComponent(new URL(c.req.url).pathname + new URL(c.req.url).search)}` : ''
    return c.redirect(`/admin/sign-in${next}`, 303)
  }
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    let sent = c.req.header('x-csrf-token')
    if (!sent && c.req.header('content-type')?.includes('form')) sent = String((await c.req.parseBody())._csrf ?? '')
    if (sent !== session.csrf) {
      return wantsJson
        ? c.json({ error: { code: 'csrf', message: 'This page is out of date: reload it and try again' } }, 403)
        : c.text('This form is out of date: go back, reload the page and try again.', 403)
    }
  }
  c.set('session', session)
  await next()
}
