/**
 * Cloudflare Access in front of the console, through the whole Worker. The test is its own Access team: it
 * makes an RSA key pair, serves its public half as the team's key set through the ACCESS_CERTS fetcher (no
 * global is mocked), and signs assertions as Access would — and as an attacker would try to.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { type AccessBindings, type KeyFetcher } from '../../worker/http/access'
import worker from '../../worker/index'
import { toBase64Url } from '../../worker/lib/base64url'
import { ADMIN_TOKEN } from './fixtures'

const TEAM = 'https://segue-test.cloudflareaccess.com'
const AUD = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2'
const CERTS_URL = `${TEAM}/cdn-cgi/access/certs`
const KID = 'team-key-1'

/** The team's key set, served as Access serves it; counts how often it is asked for. */
class TeamCerts implements KeyFetcher {
  calls = 0
  constructor(
    private readonly keys: JWK[],
    private readonly status = 200,
  ) {}

  async fetch(url: string): Promise<Response> {
    this.calls++
    expect(url).toBe(CERTS_URL)
    return this.status === 200 ? Response.json({ keys: this.keys }) : new Response('unavailable', { status: this.status })
  }
}

let teamKey: CryptoKey
let teamJwk: JWK
let strangerKey: CryptoKey
let certs: TeamCerts

beforeAll(async () => {
  const team = await generateKeyPair('RS256', { extractable: true })
  teamKey = team.privateKey
  strangerKey = (await generateKeyPair('RS256')).privateKey
  teamJwk = { ...(await exportJWK(team.publicKey)), kid: KID, alg: 'RS256', use: 'sig' }
  certs = new TeamCerts([teamJwk])
})

interface AssertionOptions {
  email?: string | null
  issuer?: string
  audience?: string
  expires?: string | number
  key?: CryptoKey
}

/** An assertion as Access signs one (an identity's email, the team as issuer, the application's AUD), or as told otherwise. */
function assertion(o: AssertionOptions = {}): Promise<string> {
  const claims = o.email === null ? { type: 'app' } : { type: 'app', email: o.email ?? 'ana@acme.example' }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .setIssuer(o.issuer ?? TEAM)
    .setAudience([o.audience ?? AUD])
    .setSubject('8c1d6c51-5bd6-4c7c-8a76-1d2f5e0c9a11')
    .setIssuedAt()
    .setExpirationTime(o.expires ?? '1h')
    .sign(o.key ?? teamKey)
}

const json = (value: unknown) => toBase64Url(JSON.stringify(value))

interface CallOptions {
  assertion?: string
  cookie?: string
  method?: string
  form?: Record<string, string>
  headers?: Record<string, string>
  vars?: AccessBindings
}

/** A request to the Worker deployed behind Access: ACCESS_TEAM_DOMAIN and ACCESS_AUD set, keys from `certs`. */
async function call(path: string, o: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...o.headers }
  if (o.assertion !== undefined) headers['cf-access-jwt-assertion'] = o.assertion
  if (o.cookie) headers.cookie = o.cookie
  if (o.form) headers['content-type'] = 'application/x-www-form-urlencoded'
  const request = new Request(`https://segue.acme.example${path}`, {
    method: o.method ?? (o.form ? 'POST' : 'GET'),
    headers,
    body: o.form ? new URLSearchParams(o.form).toString() : undefined,
    redirect: 'manual',
  })
  const vars: AccessBindings = o.vars ?? { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS: certs }
  const ctx = createExecutionContext()
  const res = await worker.fetch!(request as never, { ...env, ...vars } as Env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]
const csrfOf = (page: string) => /<meta name="csrf-token" content="([^"]+)"/.exec(page)![1]
const whoOf = (page: string) => /<span class="who">([^<]*)<\/span>/.exec(page)?.[1]

describe('a console behind Cloudflare Access', () => {
  it('signs the person in by the email of a valid assertion, shows it in the header and starts a session', async () => {
    const res = await call('/admin/sites', { assertion: await assertion() })
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(whoOf(page)).toBe('ana@acme.example')
    expect(page).toContain('Sign out')
    expect(res.headers.get('set-cookie')).toMatch(/^segue_console=.*HttpOnly.*SameSite=Strict/i)
  })

  it('keeps the session while the same person comes back, and starts another for someone else', async () => {
    const first = await call('/admin/sites', { assertion: await assertion() })
    const cookie = cookieOf(first)
    const again = await call('/admin/sites', { assertion: await assertion(), cookie })
    expect(again.headers.get('set-cookie')).toBeNull()
    expect(csrfOf(await again.text())).toBe(csrfOf(await first.text()))
    const bob = await call('/admin/sites', { assertion: await assertion({ email: 'bob@acme.example' }), cookie })
    expect(whoOf(await bob.text())).toBe('bob@acme.example')
    expect(cookieOf(bob)).not.toBe(cookie)
  })

  it('fetches the team key set once for many requests', async () => {
    const own = new TeamCerts([teamJwk])
    const vars = { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS: own }
    for (const email of ['ana@acme.example', 'bob@acme.example', 'cy@acme.example', 'dee@acme.example', 'eve@acme.example']) {
      const res = await call('/admin/sites', { assertion: await assertion({ email }), vars })
      expect(res.status).toBe(200)
    }
    expect(own.calls).toBe(1)
  })

  it.each([
    ['expired', () => assertion({ expires: Math.floor(Date.now() / 1000) - 60 }), 'access_expired', /has expired/],
    ['for another Access application', () => assertion({ audience: 'f'.repeat(64) }), 'access_audience', /another Access application/],
    ['issued by another team', () => assertion({ issuer: 'https://someone-else.cloudflareaccess.com' }), 'access_issuer', /issued by another team/],
    ['signed with a key that is not the team’s', () => assertion({ key: strangerKey }), 'access_signature', /signature does not verify/],
    ['tampered with (another email, the signature kept)', tampered, 'access_signature', /signature does not verify/],
    ['unsigned (alg none)', unsigned, 'access_algorithm', /not signed with RS256/],
    ['not a JWT', async () => 'not.a.jwt', 'access_malformed', /not a well-formed/],
    ['without an email (a service token)', () => assertion({ email: null }), 'access_no_email', /carries no email/],
    ['missing', async () => undefined, 'access_missing', /did not come through it/],
  ])('refuses an assertion %s with 403, a page saying why and no session', async (_name, make, code, why) => {
    const sent = await make()
    const page = await call('/admin/sites', { assertion: sent })
    expect(page.status).toBe(403)
    expect(page.headers.get('set-cookie')).toBeNull()
    const text = await page.text()
    expect(text).toMatch(why)
    expect(text).not.toContain('csrf-token')
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const script = await call('/admin/sites', { assertion: sent, headers: { accept: 'application/json' } })
    expect(script.status).toBe(403)
    expect(await script.json()).toMatchObject({ error: { code } })
  })

  it('refuses a session cookie that comes without an assertion, even a valid one', async () => {
    const cookie = cookieOf(await call('/admin/sites', { assertion: await assertion() }))
    const res = await call('/admin/sites', { cookie })
    expect(res.status).toBe(403)
  })

  it('takes no admin token: the sign-in page leads on to the console, and a token posted to it is refused', async () => {
    const page = await call('/admin/sign-in?next=/admin/sites')
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/admin/sites')
    const posted = await call('/admin/sign-in', { form: { token: ADMIN_TOKEN, next: '/admin' } })
    expect(posted.status).toBe(403)
    expect(posted.headers.get('set-cookie')).toBeNull()
    expect(await posted.text()).toContain('signs people in with Cloudflare Access')
  })

  it('still wants the CSRF token on forms, and signs out of Access too', async () => {
    const sent = await assertion()
    const first = await call('/admin/sites', { assertion: sent })
    const cookie = cookieOf(first)
    const csrf = csrfOf(await first.text())
    expect((await call('/admin/sign-out', { assertion: sent, cookie, form: {} })).status).toBe(403)
    const out = await call('/admin/sign-out', { assertion: sent, cookie, form: { _csrf: csrf } })
    expect(out.status).toBe(303)
    expect(out.headers.get('location')).toBe('/cdn-cgi/access/logout')
  })

  it('leaves the admin API to the bearer token: an assertion alone is refused, the token alone is enough', async () => {
    expect((await call('/api/v1/sites', { assertion: await assertion() })).status).toBe(401)
    expect((await call('/api/v1/sites', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200)
  })

  it('answers 503 while the team keys cannot be fetched, and 503 naming the var when only one is set', async () => {
    const down = await call('/admin/sites', { assertion: await assertion(), vars: { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS: new TeamCerts([], 500) } })
    expect(down.status).toBe(503)
    expect(await down.text()).toContain('could not be fetched')
    for (const vars of [{ ACCESS_AUD: AUD, ACCESS_TEAM_DOMAIN: '' }, { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: '' }, { ACCESS_TEAM_DOMAIN: 'http://acme.cloudflareaccess.com', ACCESS_AUD: AUD }]) {
      const res = await call('/admin/sites', { assertion: await assertion(), vars })
      expect(res.status).toBe(503)
      expect(await res.text()).toMatch(/ACCESS_(AUD|TEAM_DOMAIN)/)
      expect((await call('/admin/sign-in', { vars })).status).toBe(503)
    }
  })

  it('is off while both vars are empty: the admin token signs in as before, with no email in the header', async () => {
    const vars = { ACCESS_TEAM_DOMAIN: '', ACCESS_AUD: '' }
    expect((await call('/admin/sites', { assertion: await assertion(), vars })).status).toBe(303)
    const signIn = await call('/admin/sign-in', { vars, form: { token: ADMIN_TOKEN, next: '/admin/sites' }, headers: { 'cf-connecting-ip': '198.51.100.7' } })
    expect(signIn.status).toBe(303)
    const page = await call('/admin/sites', { vars, cookie: cookieOf(signIn) })
    expect(page.status).toBe(200)
    expect(whoOf(await page.text())).toBeUndefined()
  })
})

/** A valid assertion whose payload now names someone else, its signature left as it was. */
async function tampered(): Promise<string> {
  const [header, , signature] = (await assertion()).split('.')
  const now = Math.floor(Date.now() / 1000)
  return `${header}.${json({ type: 'app', email: 'mallory@acme.example', iss: TEAM, aud: [AUD], iat: now, exp: now + 3600 })}.${signature}`
}

/** An assertion that says it needs no signature. */
async function unsigned(): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return `${json({ alg: 'none', typ: 'JWT' })}.${json({ type: 'app', email: 'ana@acme.example', iss: TEAM, aud: [AUD], iat: now, exp: now + 3600 })}.`
}
