/**
 * The admin console, through the Worker: sessions, sign-out, the sign-in throttle, security headers, CSRF,
 * pages over the same services as the API, and the escaping of everything a visitor sent.
 */
import { createExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { app } from '../../worker/app'
import { ADMIN_TOKEN, api, dataOf } from './fixtures'

const BASE = 'http://segue.test'
const S = '/admin/sites/cons'

async function get(path: string, cookie = ''): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' })
}

async function post(path: string, fields: Record<string, string>, cookie = '', headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  })
}

// The sign-in throttle is one simulated limiter for the whole run: each attempt here comes from an address
// of its own so that none of them counts against another, nor against the throttling test's address.
let clients = 0
const newClient = () => `192.0.2.${++clients}`

async function attemptSignIn(fields: Record<string, string>, client = newClient()): Promise<Response> {
  return post('/admin/sign-in', fields, '', { 'cf-connecting-ip': client })
}

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const res = await attemptSignIn({ token: ADMIN_TOKEN, next: '/admin/sites/cons' })
  expect(res.status).toBe(303)
  const cookie = res.headers.get('set-cookie')!.split(';')[0]
  const page = await (await get(S, cookie)).text()
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page)![1]
  return { cookie, csrf }
}

let session: { cookie: string; csrf: string }

beforeAll(async () => {
  await api('POST', '/sites', { id: 'cons', name: 'Console shop', allowedOrigins: ['https://shop.example'], fields: [{ key: 'plan', type: 'string' }] })
  await api('POST', '/sites/cons/segments', { id: 'seg_millennials', name: 'Millennials', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] } })
  await api('POST', '/sites/cons/segments', { id: 'seg_vip', name: 'VIP', type: 'static' })
  session = await signIn()
})

describe('signing in', () => {
  it('refuses a wrong token and sets no cookie', async () => {
    const res = await attemptSignIn({ token: 'nope' })
    expect(res.status).toBe(401)
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(await res.text()).toContain('not the admin token')
  })

  it('sets an HttpOnly, SameSite=Strict session cookie scoped to /admin', async () => {
    const res = await attemptSignIn({ token: ADMIN_TOKEN })
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    expect(cookie).toMatch(/Path=\/admin/i)
  })

  it('does not accept a forged or tampered cookie', async () => {
    const [name, value] = session.cookie.split('=')
    const [payload, mac] = value.split('.')
    for (const forged of [`${name}=${payload}.AAAA`, `${name}=${payload}x.${mac}`, `${name}=garbage`]) {
      const res = await get(S, forged)
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toContain('/admin/sign-in')
    }
  })

  it('signs out', async () => {
    const mine = await signIn()
    const res = await post('/admin/sign-out', { _csrf: mine.csrf }, mine.cookie)
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toMatch(/Max-Age=0/i)
  })

  it('refuses the cookie of a signed-out session when it is sent again, for pages, forms and scripts', async () => {
    const mine = await signIn()
    expect((await get(S, mine.cookie)).status).toBe(200)
    expect((await post('/admin/sign-out', { _csrf: mine.csrf }, mine.cookie)).status).toBe(303)
    const page = await get(S, mine.cookie)
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toMatch(/^\/admin\/sign-in/)
    const form = await post(`${S}/segments`, { _csrf: mine.csrf, type: 'static', name: 'After sign-out' }, mine.cookie)
    expect(form.headers.get('location')).toMatch(/^\/admin\/sign-in/)
    const script = await exports.default.fetch(`${BASE}${S}/segments/preview`, {
      method: 'POST',
      headers: { cookie: mine.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': mine.csrf },
      body: JSON.stringify({ conditions: { all: [] } }),
    })
    expect(script.status).toBe(401)
    expect((await get('/admin/sign-in', mine.cookie)).status).toBe(200)
    expect((await get(S, session.cookie)).status).toBe(200)
  })

  it('refuses every session once the admin token is rotated', async () => {
    const rotated = { ...env, ADMIN_TOKEN: 'rotated-admin-token' }
    const res = await app.fetch(new Request(`${BASE}${S}`, { headers: { cookie: session.cookie } }), rotated, createExecutionContext())
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toMatch(/^\/admin\/sign-in/)
  })
})

describe('where signing in leads', () => {
  const BAD_NEXT = [
    '/admin\r\nX-Evil: 1',
    '/admin\nSet-Cookie: segue_console=x',
    '/admin\r',
    '/admin/sites\tx',
    ' /admin',
    '//evil.example/admin',
    '/\\evil.example',
    '/admin\\..\\..\\evil',
    '/admin//evil.example',
    'https://evil.example/admin',
    'javascript:alert(1)//admin',
    '/admin/../api/v1/sites',
    '/admin/%2e%2e/api/v1/sites',
    '/admin/.%2E/.%2e/evil',
    '/adminx',
    '/admin/caf\u00e9',
    '',
  ]

  it.each(BAD_NEXT)('sends a signed-in visitor given next=%j to /admin', async (next) => {
    const res = await get(`/admin/sign-in?next=${encodeURIComponent(next)}`, session.cookie)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin')
  })

  it.each(BAD_NEXT)('signs in with next=%j posted and goes to /admin', async (next) => {
    const res = await attemptSignIn({ token: ADMIN_TOKEN, next })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin')
  })

  it('answers the address from the review, CR and LF percent-encoded in the query, with the sign-in page', async () => {
    const res = await get('/admin/sign-in?next=/admin%0d%0aX-Evil:1')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-evil')).toBeNull()
    expect(await res.text()).toContain('name="next" value="/admin"')
  })

  it('comes back to the console page it was sent from', async () => {
    const next = '/admin/sites/cons/segments?type=dynamic&q=mill'
    expect((await get(`/admin/sign-in?next=${encodeURIComponent(next)}`, session.cookie)).headers.get('location')).toBe(next)
    expect((await attemptSignIn({ token: ADMIN_TOKEN, next })).headers.get('location')).toBe(next)
    const redirected = await get('/admin/sites/cons/segments?type=dynamic&q=mill')
    const back = new URL(redirected.headers.get('location')!, BASE).searchParams.get('next')
    expect((await attemptSignIn({ token: ADMIN_TOKEN, next: back! })).headers.get('location')).toBe(next)
  })
})

describe('throttling sign-in', () => {
  it('answers the 11th attempt within a minute from one address with 429, without checking the token', async () => {
    // Miniflare's limiter counts in fixed windows aligned to the minute: start clear of a window's end so
    // that all eleven attempts fall into one.
    const intoMinute = Date.now() % 60_000
    if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute))
    const client = '198.51.100.11'
    for (let i = 1; i <= 10; i++) expect((await attemptSignIn({ token: `wrong-${i}` }, client)).status, `attempt ${i}`).toBe(401)
    const res = await attemptSignIn({ token: ADMIN_TOKEN, next: S }, client)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('60')
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('location')).toBeNull()
    expect(await res.text()).toContain('wait a minute')
    expect((await attemptSignIn({ token: ADMIN_TOKEN }, '198.51.100.12')).status).toBe(303)
  }, 20_000)
})

describe('security headers', () => {
  const PAGES = ['/admin/sites', S, `${S}/segments`, `${S}/segments/new?type=dynamic`, `${S}/contacts`, `${S}/content/new`, `${S}/workflows`, `${S}/workflows/new`]

  function expectConsoleHeaders(res: Response, frameAncestors = "'none'") {
    const csp = res.headers.get('content-security-policy') ?? ''
    const directive = (name: string) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `))
    expect(directive('script-src')).toBe("script-src 'self'")
    expect(directive('default-src')).toBe("default-src 'self'")
    expect(directive('frame-ancestors')).toBe(`frame-ancestors ${frameAncestors}`)
    expect(directive('img-src')).toMatch(/(?=.*\bhttps:)(?=.*\bhttp:)/)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('cache-control')).toBe('no-store')
  }

  it.each(PAGES)('puts them on %s, whose scripts are all files or inert data', async (path) => {
    const res = await get(path, session.cookie)
    expect(res.status).toBe(200)
    expectConsoleHeaders(res)
    const scripts = [...(await res.text()).matchAll(/<script\b([^>]*)>/g)].map((m) => m[1])
    expect(scripts.length).toBeGreaterThan(0)
    for (const attrs of scripts) expect(attrs, path).toMatch(/\bsrc="\/console\/[a-z-]+\.js"|\btype="application\/json"/)
  })

  it('puts them on the sign-in page, a redirect to it and a refused attempt', async () => {
    expectConsoleHeaders(await get('/admin/sign-in'))
    expectConsoleHeaders(await get(S))
    expectConsoleHeaders(await attemptSignIn({ token: 'nope' }))
  })

  it('puts them on the console 404 page, for an unknown address and an unknown site', async () => {
    for (const path of ['/admin/no-such-page', '/admin/sites/no-such-site']) {
      const res = await get(path, session.cookie)
      expect(res.status, path).toBe(404)
      expect(await res.text()).toContain('There is nothing here')
      expectConsoleHeaders(res)
    }
    // An address that only begins like the console's gets the API's answer, not a console page without headers.
    const lookalike = await get('/adminx', session.cookie)
    expect(lookalike.status).toBe(404)
    expect(lookalike.headers.get('content-type')).toContain('application/json')
  })

  it('lets only the console itself frame the content preview', async () => {
    const res = await get('/admin/preview', session.cookie)
    expect(res.status).toBe(200)
    expectConsoleHeaders(res, "'self'")
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
  })
})

/** Every console route the app registers, parameters filled in. */
const consoleRoutes = app.routes
  .filter((r) => r.path.startsWith('/admin') && r.method !== 'ALL' && !r.path.startsWith('/admin/sign-in') && r.path !== '/admin/*')
  .map((r) => ({ method: r.method, path: r.path.replace(/:status\{[^}]+\}/, 'pause').replace(/:[a-z]+/g, 'x') }))

describe('without a session', () => {
  it('walks at least the console pages this test expects', () => {
    expect(consoleRoutes.length).toBeGreaterThan(25)
  })

  it.each(consoleRoutes)('$method $path sends the browser to sign in', async ({ method, path }) => {
    const res = method === 'GET' ? await get(path) : await post(path, {})
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toMatch(/^\/admin\/sign-in/)
  })
})

describe('CSRF', () => {
  it('refuses a form without the token, or with another one, and writes nothing', async () => {
    for (const fields of [{ type: 'static', name: 'Sneaky' }, { type: 'static', name: 'Sneaky', _csrf: 'wrong' }] as Array<Record<string, string>>) {
      const res = await post(`${S}/segments`, fields, session.cookie)
      expect(res.status).toBe(403)
    }
    expect((await api('GET', '/sites/cons/segments?q=sneaky')).ok).toBe(true)
    expect((await (await api('GET', '/sites/cons/segments?q=sneaky')).json<{ items: unknown[] }>()).items).toEqual([])
  })
})

describe('segments', () => {
  it('lists segments with a type icon and a text label, filters by type and searches by name', async () => {
    const all = await (await get(`${S}/segments`, session.cookie)).text()
    expect(all).toContain('class="dot dynamic"')
    expect(all).toContain('class="dot static"')
    expect(all).toMatch(/Dynamic<\/span><span class="sr-only"> segment/)
    const dynamic = await (await get(`${S}/segments?type=dynamic`, session.cookie)).text()
    expect(dynamic).toContain('Millennials')
    expect(dynamic).not.toContain('>VIP<')
    const found = await (await get(`${S}/segments?q=vi`, session.cookie)).text()
    expect(found).toContain('>VIP<')
    expect(found).not.toContain('Millennials<')
  })

  it('creates a static segment from the form', async () => {
    const res = await post(`${S}/segments`, { _csrf: session.csrf, type: 'static', name: 'Newsletter readers', description: 'From the form' }, session.cookie)
    expect(res.status).toBe(303)
    const page = await (await get(res.headers.get('location')!, session.cookie)).text()
    expect(page).toContain('Segment created.')
    expect(page).toContain('From the form')
  })

  it('creates a dynamic segment from the builder and shows its members', async () => {
    await api('POST', '/sites/cons/contacts', { id: 'ana', email: 'ana@example.com', fields: { firstName: 'Ana', birthDate: '1990-04-02' } })
    const conditions = JSON.stringify({ all: [{ field: 'birthDate', op: 'after', value: '1985-01-01' }] })
    const res = await post(`${S}/segments`, { _csrf: session.csrf, type: 'dynamic', name: 'Born after 1985', conditions }, session.cookie)
    expect(res.status).toBe(303)
    const page = await (await get(res.headers.get('location')!, session.cookie)).text()
    expect(page).toContain('born after 1985-01-01')
    expect(page).toContain('ana@example.com')
  })

  it('shows refusals next to the field they concern', async () => {
    const taken = await post(`${S}/segments`, { _csrf: session.csrf, type: 'static', name: 'vip' }, session.cookie)
    expect(taken.status).toBe(400)
    expect(await taken.text()).toMatch(/id="f-name-error">A segment named &quot;vip&quot; already exists/)
    const bad = await post(`${S}/segments`, { _csrf: session.csrf, type: 'dynamic', name: 'Odd', conditions: JSON.stringify({ all: [{ field: 'birthDate', op: 'contains', value: '19' }] }) }, session.cookie)
    expect(bad.status).toBe(400)
    expect(await bad.text()).toMatch(/id="conditions-error">[^<]*contains does not apply to birth date/)
    // Every problem of a tree, each with the clause it is in.
    const two = await post(`${S}/segments`, { _csrf: session.csrf, type: 'dynamic', name: 'Two', conditions: JSON.stringify({ all: [{ field: 'shoeSize', op: 'eq', value: 42 }, { field: 'hatSize', op: 'eq', value: 7 }] }) }, session.cookie)
    expect(two.status).toBe(400)
    const error = /id="conditions-error">([^<]*)</.exec(await two.text())?.[1]
    expect(error).toMatch(/^all\[0\]: unknown field &quot;shoeSize&quot;.*; all\[1\]: unknown field &quot;hatSize&quot;/)
  })

  it('counts and summarizes unsaved conditions for the live preview', async () => {
    const res = await exports.default.fetch(`${BASE}${S}/segments/preview`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': session.csrf },
      body: JSON.stringify({ conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] } }),
    })
    expect(await res.json()).toMatchObject({ count: 1, summary: 'born between 1981-01-01 and 1996-12-31' })
  })

  it('deletes after confirmation, and explains why when it cannot', async () => {
    await api('POST', '/sites/cons/segments', { id: 'seg_reader', name: 'Reads VIP', type: 'dynamic', conditions: { all: [{ segment: 'seg_vip', op: 'in' }] } })
    expect(await (await get(`${S}/segments/seg_vip/delete`, session.cookie)).text()).toContain('cannot be undone')
    const refused = await post(`${S}/segments/seg_vip/delete`, { _csrf: session.csrf }, session.cookie)
    expect(refused.status).toBe(409)
    expect(await refused.text()).toContain('Reads VIP')
  })
})

describe('contacts', () => {
  it('adds a contact to a static segment and removes it, and shows why for dynamic ones', async () => {
    const added = await post(`${S}/contacts/ana/segments`, { _csrf: session.csrf, segment: 'seg_vip' }, session.cookie)
    expect(added.status).toBe(303)
    let page = await (await get(added.headers.get('location')!, session.cookie)).text()
    expect(page).toContain('Added to the segment.')
    expect(page).toContain(`/contacts/ana/segments/seg_vip/remove`)
    expect(page).not.toContain(`/contacts/ana/segments/seg_millennials/remove`)
    expect(page).toContain('it cannot be removed by hand')
    expect(page).toContain('born between 1981-01-01 and 1996-12-31')
    await post(`${S}/contacts/ana/segments/seg_vip/remove`, { _csrf: session.csrf }, session.cookie)
    page = await (await get(`${S}/contacts/ana`, session.cookie)).text()
    expect(page).not.toContain(`/contacts/ana/segments/seg_vip/remove`)
  })

  it('refuses to remove a dynamic membership by hand, in words', async () => {
    const res = await post(`${S}/contacts/ana/segments/seg_millennials/remove`, { _csrf: session.csrf }, session.cookie)
    expect(res.status).toBe(409)
    expect(await res.text()).toContain('dynamic segment')
  })

  it('edits fields and shows a refused value next to its field', async () => {
    const bad = await post(`${S}/contacts/ana/edit`, { _csrf: session.csrf, email: 'ana@example.com', birthDate: '1990-02-30', plan: 'pro' }, session.cookie)
    expect(bad.status).toBe(400)
    expect(await bad.text()).toMatch(/id="f-birthDate-error">must be a date written YYYY-MM-DD/)
    const ok = await post(`${S}/contacts/ana/edit`, { _csrf: session.csrf, email: 'ana@example.com', firstName: 'Ana María', birthDate: '1990-04-02', plan: 'pro' }, session.cookie)
    expect(ok.status).toBe(303)
    const json = await (await api('GET', '/sites/cons/contacts/ana')).json<{ fields: Record<string, unknown> }>()
    expect(json.fields).toMatchObject({ firstName: 'Ana María', plan: 'pro' })
  })
})

describe('identity and erasure', () => {
  it('marks an email a browser gave without a signature as unverified, in the list and on the contact', async () => {
    await api('POST', '/sites/cons/contacts', { id: 'claimer', fields: { firstName: 'Cleo' } })
    const claimed = await (await dataOf('cons')).of('claimer').prepare("UPDATE contacts SET claimed_email = 'cleo@example.com' WHERE site_id = 'cons' AND id = 'claimer'").run()
    expect(claimed.meta.changes).toBe(1)
    const profile = await (await get(`${S}/contacts/claimer`, session.cookie)).text()
    expect(profile).toMatch(/cleo@example\.com<\/span> <span class="badge warn"/)
    const list = await (await get(`${S}/contacts?q=cleo`, session.cookie)).text()
    expect(list).toContain('cleo@example.com</a> <span class="badge warn">unverified</span>')
  })

  it('exports everything about a contact as a JSON download', async () => {
    const res = await get(`${S}/contacts/claimer/export`, session.cookie)
    expect(res.headers.get('content-disposition')).toContain('attachment; filename="contact-claimer.json"')
    expect(await res.json()).toMatchObject({ contact: { id: 'claimer', claimedEmail: 'cleo@example.com', fields: { firstName: 'Cleo' } }, activities: [] })
  })

  it('merges a contact into one found by search, keeping both emails', async () => {
    await api('POST', '/sites/cons/contacts', { id: 'twin-a', email: 'twin.a@example.com', fields: { firstName: 'Tess' } })
    await api('POST', '/sites/cons/contacts', { id: 'twin-b', email: 'twin.b@example.com', fields: { lastName: 'Ito' } })
    const search = await (await get(`${S}/contacts/twin-a/merge?q=twin.b`, session.cookie)).text()
    expect(search).toContain('name="into" value="twin-b"')
    expect(search).not.toContain('name="into" value="twin-a"')
    const res = await post(`${S}/contacts/twin-a/merge`, { _csrf: session.csrf, into: 'twin-b' }, session.cookie)
    expect(res.status).toBe(303)
    const page = await (await get(res.headers.get('location')!, session.cookie)).text()
    expect(page).toContain('Merged: this contact now holds')
    expect(page).toContain('twin.a@example.com')
    expect(await (await api('GET', '/sites/cons/contacts/twin-b')).json()).toMatchObject({ email: 'twin.b@example.com', fields: { firstName: 'Tess', lastName: 'Ito' } })
    expect((await api('GET', '/sites/cons/contacts/twin-a')).status).toBe(404)
  })

  it('deletes a contact after confirmation, with everything kept about it', async () => {
    expect(await (await get(`${S}/contacts/claimer/delete`, session.cookie)).text()).toContain('This cannot be undone')
    const res = await post(`${S}/contacts/claimer/delete`, { _csrf: session.csrf }, session.cookie)
    expect(res.status).toBe(303)
    expect(await (await get(res.headers.get('location')!, session.cookie)).text()).toContain('deleted with everything Segue kept')
    expect((await api('GET', '/sites/cons/contacts/claimer')).status).toBe(404)
  })

  it('rotates the identity secret after confirmation and shows the new one once', async () => {
    const before = await (await api('GET', '/sites/cons')).json<{ identitySecret: { endsWith: string } }>()
    expect(await (await get(S, session.cookie)).text()).toContain(`…${before.identitySecret.endsWith}`)
    expect(await (await get(`${S}/identity-secret`, session.cookie)).text()).toContain('shown once')
    const res = await post(`${S}/identity-secret`, { _csrf: session.csrf }, session.cookie)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const secret = /<pre id="secret">(idsec_[a-z0-9]+)<\/pre>/.exec(await res.text())![1]
    const after = await (await api('GET', '/sites/cons')).json<{ identitySecret: { endsWith: string } }>()
    expect(after.identitySecret.endsWith).toBe(secret.slice(-4))
    expect(await (await get(S, session.cookie)).text()).not.toContain(secret)
  })

  it('warns on every page of a site while it trusts unsigned identify', async () => {
    const warning = 'trusts unsigned identify: anyone who knows'
    expect(await (await get(`${S}/contacts`, session.cookie)).text()).not.toContain(warning)
    expect((await post(`${S}/identity`, { _csrf: session.csrf, trustUnsignedIdentify: 'on' }, session.cookie)).status).toBe(303)
    for (const path of [S, `${S}/contacts`, `${S}/segments`]) expect(await (await get(path, session.cookie)).text(), path).toContain(warning)
    await post(`${S}/identity`, { _csrf: session.csrf }, session.cookie)
    expect(await (await get(S, session.cookie)).text()).not.toContain(warning)
  })
})

describe('limits and messages not written', () => {
  it('shows and saves the limits of the public endpoint, refusing values out of bounds beside their field', async () => {
    const page = await (await get(S, session.cookie)).text()
    expect(page).toContain('Limits of the public endpoint')
    const bad = await post(`${S}/limits`, { _csrf: session.csrf, rate: 'strict', eventBytes: '100', contactBytesPerDay: '262144' }, session.cookie)
    expect(bad.status).toBe(400)
    expect(await bad.text()).toMatch(/id="f-eventBytes-error">[^<]*512/)
    const ok = await post(`${S}/limits`, { _csrf: session.csrf, rate: 'strict', eventBytes: '2048', contactBytesPerDay: '65536' }, session.cookie)
    expect(ok.status).toBe(303)
    expect(await (await api('GET', '/sites/cons')).json()).toMatchObject({ limits: { rate: 'strict', eventBytes: 2048, contactBytesPerDay: 65536 } })
  })

  it('shows and saves how long data is kept, refusing a value out of bounds, or under what a segment reads back, beside its field', async () => {
    const page = await (await get(S, session.cookie)).text()
    expect(page).toContain('Data retention')
    expect(page).toContain('counts only what is still kept')
    const bad = await post(`${S}/retention`, { _csrf: session.csrf, activityDays: '396', anonymousContactDays: '7' }, session.cookie)
    expect(bad.status).toBe(400)
    expect(await bad.text()).toMatch(/id="f-anonymousContactDays-error">must be at least 30 days/)
    await api('POST', '/sites/cons/segments', { id: 'seg_this_year', name: 'Visited this year', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', within: '365d' }] } })
    const shorter = await post(`${S}/retention`, { _csrf: session.csrf, activityDays: '180', anonymousContactDays: '90' }, session.cookie)
    expect(shorter.status).toBe(400)
    expect(await shorter.text()).toMatch(/id="f-activityDays-error">Segment &quot;Visited this year&quot; reads activities 365 days back/)
    const ok = await post(`${S}/retention`, { _csrf: session.csrf, activityDays: '730', anonymousContactDays: '90' }, session.cookie)
    expect(ok.status).toBe(303)
    expect(await (await api('GET', '/sites/cons')).json()).toMatchObject({ retention: { activityDays: 730, anonymousContactDays: 90 } })
    await api('DELETE', '/sites/cons/segments/seg_this_year')
  })

  it('lists messages not written with their reason, replays a held one and dismisses another', async () => {
    const body = (contactId: string) => JSON.stringify({ kind: 'visit', id: `m-${contactId}`, siteId: 'cons', contactId, v: 1, activities: [], fields: {}, statics: [], counters: [] })
    await env.DB.batch([
      env.DB.prepare("INSERT INTO dead_letters (id, site_id, kind, contact_id, body, reason, outcome, created_at) VALUES ('dl_held', 'cons', 'visit', 'held-1', ?1, 'D1_ERROR: <b>constraint</b> failed', 'held', 2)").bind(body('held-1')),
      env.DB.prepare("INSERT INTO dead_letters (id, site_id, kind, contact_id, body, reason, outcome, created_at) VALUES ('dl_part', 'cons', 'visit', 'part-1', ?1, 'Written without its identity', 'partly written', 1)").bind(body('part-1')),
    ])
    expect(await (await get(S, session.cookie)).text()).toContain('2 messages could not be written in full')
    const list = await (await get(`${S}/dead-letters`, session.cookie)).text()
    expect(list).toContain('D1_ERROR: &lt;b&gt;constraint&lt;/b&gt; failed')
    expect(list).toContain('/dead-letters/dl_held/replay')
    expect(list).not.toContain('/dead-letters/dl_part/replay')
    expect((await post(`${S}/dead-letters/dl_held/replay`, { _csrf: session.csrf }, session.cookie)).headers.get('location')).toContain('notice=replayed')
    expect((await post(`${S}/dead-letters/dl_part/dismiss`, { _csrf: session.csrf }, session.cookie)).headers.get('location')).toContain('notice=dismissed')
    expect(await (await get(`${S}/dead-letters`, session.cookie)).text()).toContain('every message was written')
  })
})

describe('console forms take the API\'s door', () => {
  it('refuses an allowed origin that is not one, and keeps the others as a browser sends them', async () => {
    const bad = await post(`${S}/origins`, { _csrf: session.csrf, allowedOrigins: 'https://shop.example\nnot an origin' }, session.cookie)
    expect(bad.status).toBe(400)
    expect(await post(`${S}/origins`, { _csrf: session.csrf, allowedOrigins: 'HTTPS://Shop.Example:443/' }, session.cookie)).toMatchObject({ status: 303 })
    expect(await (await api('GET', '/sites/cons')).json()).toMatchObject({ allowedOrigins: ['https://shop.example'] })
  })

  it('refuses a lone surrogate in a workflow and in segment conditions, storing nothing', async () => {
    const saved = await exports.default.fetch(`${BASE}${S}/workflows/save`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': session.csrf },
      body: '{"name":"Bad \\ud800 name","start":{"trigger":{"type":"page_visit"}},"entry":"a","nodes":{"a":{"type":"addToSegment","segment":"seg_vip"}}}',
    })
    expect(saved.status).toBe(400)
    expect(await saved.json()).toMatchObject({ error: { message: expect.stringContaining('surrogate') } })
    const segment = await post(`${S}/segments`, { _csrf: session.csrf, type: 'dynamic', name: 'Surrogates', conditions: '{"all":[{"field":"firstName","op":"eq","value":"\\udc00"}]}' }, session.cookie)
    expect(segment.status).toBe(400)
    expect((await (await api('GET', '/sites/cons/segments?q=surrogates')).json<{ items: unknown[] }>()).items).toEqual([])
  })
})

describe('what visitors sent is shown as text', () => {
  const XSS = `"><script>alert('x')</script><img src=x onerror=alert(1)>`

  it('escapes URLs, titles, names, properties and field values everywhere they appear', async () => {
    await api('POST', '/sites/cons/contacts', { id: 'evil', email: 'evil@example.com', fields: { firstName: XSS, lastName: XSS, city: XSS, plan: XSS } })
    await api('POST', '/sites/cons/contacts/evil/events', {
      events: [
        { id: 'x1', type: 'page_visit', url: `https://shop.example/?q=${XSS}`, title: XSS, referrer: `https://ref.example/${XSS}` },
        { id: 'x2', type: 'custom', name: 'wishlist', props: { album: XSS } },
        { id: 'x3', type: 'purchase', amount: 1, orderId: XSS },
      ],
    })
    const pages = [`${S}/contacts/evil`, `${S}/contacts?q=evil`, `${S}/contacts/evil/edit`, `${S}/segments/seg_millennials`]
    for (const path of pages) {
      const html = await (await get(path, session.cookie)).text()
      expect(html, path).not.toContain("<script>alert('x')</script>")
      expect(html, path).not.toContain('<img src=x onerror')
      expect(html, path).not.toContain(`"><script>`)
    }
    const profile = await (await get(`${S}/contacts/evil`, session.cookie)).text()
    expect(profile).toContain('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;')
  })

  it('escapes segment names and descriptions an admin typed', async () => {
    await api('POST', '/sites/cons/segments', { name: `Seg ${XSS}`, description: XSS, type: 'static' })
    const list = await (await get(`${S}/segments?q=seg`, session.cookie)).text()
    expect(list).not.toContain("<script>alert('x')</script>")
  })
})

describe('overview', () => {
  it('counts content shown, clicked and closed for the last 7 and 30 days, per content and per workflow', async () => {
    await api('POST', '/sites/cons/content', { id: 'promo', name: 'Promo', format: 'bar', title: 'Sale' })
    await api('POST', '/sites/cons/workflows', { id: 'wf_promo', name: 'Promo flow', status: 'active', start: { trigger: { type: 'page_visit' } }, entry: 'a', nodes: { a: { type: 'showContent', content: 'promo' } } })
    const day = 86_400_000
    const at = (d: number) => new Date(Date.now() - d * day).toISOString()
    await api('POST', '/sites/cons/contacts/ana/events', {
      events: [
        { id: 'c1', type: 'content', content: 'promo', action: 'shown', workflow: 'wf_promo', at: at(1) },
        { id: 'c2', type: 'content', content: 'promo', action: 'shown', workflow: 'wf_promo', at: at(10) },
        { id: 'c3', type: 'content', content: 'promo', action: 'clicked', workflow: 'wf_promo', at: at(2) },
        { id: 'c4', type: 'content', content: 'promo', action: 'shown', workflow: 'wf_promo', at: at(40) },
      ],
    })
    const html = await (await get(S, session.cookie)).text()
    const row = (name: string) => [...html.matchAll(new RegExp(`<th scope="row">${name}</th>((?:<td class="num">\\d+</td>){6})`, 'g'))].map((m) => [...m[1].matchAll(/>(\d+)</g)].map((x) => Number(x[1])))
    expect(row('Promo flow')).toEqual([[1, 2, 1, 1, 0, 0]])
    expect(row('Promo')).toEqual([[1, 2, 1, 1, 0, 0]])
    expect(html).toContain(`data-site=&quot;${(await (await api('GET', '/sites/cons')).json<{ key: string }>()).key}&quot;`)
  })
})


describe('workflow order', () => {
  const popup = (id: string) => api('POST', '/sites/cons/content', { id, name: id, format: 'popup', title: id })
  const flow = (id: string, content: string) =>
    api('POST', '/sites/cons/workflows', { id, name: `Flow ${content}`, status: 'active', start: { trigger: { type: 'page_visit', url: { op: 'contains', value: '/ord' } } }, entry: 'a', nodes: { a: { type: 'showContent', content } } })
  const listed = async () => (await (await api('GET', '/sites/cons/workflows')).json<{ items: Array<{ id: string }> }>()).items.map((w) => w.id)
  const rowsOf = (html: string) => [...html.matchAll(/<tr data-workflow="([^"]+)"/g)].map((m) => m[1])

  /** The popups of this describe a new visitor gets on a page the workflows start on. */
  async function popupsShown(): Promise<string[]> {
    const { key } = await (await api('GET', '/sites/cons')).json<{ key: string }>()
    const res = await exports.default.fetch(`${BASE}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example' },
      body: JSON.stringify({ site: key, events: [{ id: crypto.randomUUID(), type: 'page_visit', url: 'https://shop.example/ord' }] }),
    })
    expect(res.status).toBe(200)
    return (await res.json<{ content: Array<{ id: string }> }>()).content.map((c) => c.id).filter((id) => id.startsWith('ord-'))
  }

  beforeAll(async () => {
    for (const id of ['ord-rock', 'ord-jazz']) expect((await popup(id)).status).toBe(201)
    expect((await flow('wf_ord_rock', 'ord-rock')).status).toBe(201)
    expect((await flow('wf_ord_jazz', 'ord-jazz')).status).toBe(201)
  })

  it('lists the workflows in the order they run, numbered, says what the order decides, and cannot move the first up or the last down', async () => {
    const html = await (await get(`${S}/workflows`, session.cookie)).text()
    expect(rowsOf(html)).toEqual(await listed())
    expect(html).toContain('When two workflows would show a popup or slide-in on the same page view, only the higher one shows.')
    expect([...html.matchAll(/<span class="position">(\d+)<\/span>/g)].map((m) => Number(m[1]))).toEqual(rowsOf(html).map((_, i) => i + 1))
    const buttons = [...html.matchAll(/<button type="submit" class="secondary" name="direction" value="(up|down)"( disabled="")?>/g)].map((m) => `${m[1]}${m[2] ? ' disabled' : ''}`)
    expect(buttons[0]).toBe('up disabled')
    expect(buttons.at(-1)).toBe('down disabled')
    expect(buttons.filter((b) => b.endsWith('disabled'))).toHaveLength(2)
  })

  it('moves a workflow up with a plain form, and a visitor gets its popup instead from then on', async () => {
    expect(await popupsShown()).toEqual(['ord-rock'])
    const res = await post(`${S}/workflows/wf_ord_jazz/move`, { _csrf: session.csrf, direction: 'up' }, session.cookie)
    expect(res.status).toBe(303)
    const page = await (await get(res.headers.get('location')!, session.cookie)).text()
    expect(page).toContain('Order saved.')
    const rows = rowsOf(page)
    expect(rows.indexOf('wf_ord_jazz')).toBe(rows.indexOf('wf_ord_rock') - 1)
    expect(await popupsShown()).toEqual(['ord-jazz'])
  })

  it('saves the whole order the list\'s script sends once a row is dropped', async () => {
    const reversed = (await listed()).reverse()
    const res = await exports.default.fetch(`${BASE}${S}/workflows/order`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': session.csrf },
      body: JSON.stringify({ ids: reversed }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ids: reversed })
    expect(await listed()).toEqual(reversed)
    expect(rowsOf(await (await get(`${S}/workflows`, session.cookie)).text())).toEqual(reversed)
    // Jazz had been moved above rock: reversed, rock comes first again.
    expect(reversed.indexOf('wf_ord_rock')).toBeLessThan(reversed.indexOf('wf_ord_jazz'))
    expect(await popupsShown()).toEqual(['ord-rock'])
  })

  it('refuses an order that leaves a workflow out, or comes without the CSRF token, and changes nothing', async () => {
    const before = await listed()
    const send = (headers: Record<string, string>, ids: string[]) =>
      exports.default.fetch(`${BASE}${S}/workflows/order`, { method: 'POST', headers: { cookie: session.cookie, 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify({ ids }) })
    const partial = await send({ 'x-csrf-token': session.csrf }, before.slice(1))
    expect(partial.status).toBe(400)
    expect((await partial.json<{ error: { message: string } }>()).error.message).toContain(`leaves out "${before[0]}"`)
    expect((await send({}, [...before].reverse())).status).toBe(403)
    expect((await post(`${S}/workflows/${before[0]}/move`, { direction: 'down' }, session.cookie)).status).toBe(403)
    expect(await listed()).toEqual(before)
  })

  it('says when a workflow has a schedule', async () => {
    const schedule = { start: '2026-12-01', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] }
    expect((await api('POST', '/sites/cons/workflows', { id: 'wf_ord_office', name: 'Office hours', start: { trigger: { type: 'page_visit', url: { op: 'contains', value: '/office' } }, schedule }, entry: 'a', nodes: { a: { type: 'showContent', content: 'ord-rock' } } })).status).toBe(201)
    const html = await (await get(`${S}/workflows`, session.cookie)).text()
    expect(html).toMatch(/<tr data-workflow="wf_ord_office"[\s\S]*?<td class="schedule">Weekdays 09:00–17:00 from 1 Dec 2026<\/td>/)
    expect(html).toMatch(/<tr data-workflow="wf_ord_rock"[\s\S]*?<td class="schedule">Always<\/td>/)
  })
})

describe('schedules in the workflow builder', () => {
  const save = (workflow: Record<string, unknown>) =>
    exports.default.fetch(`${BASE}${S}/workflows/save`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': session.csrf },
      body: JSON.stringify({ name: 'Weekend sale', entry: 'a', nodes: { a: { type: 'addToSegment', segment: 'seg_vip' } }, ...workflow }),
    })

  it('saves the Start node\'s schedule, and names each refused part of it for the builder to show beside', async () => {
    const bad = await save({ start: { trigger: { type: 'page_visit' }, schedule: { start: '2026-12-10T00:00', end: '2026-12-01T00:00', weekly: [{ days: [], from: '09:00', to: '25:00' }] } } })
    expect(bad.status).toBe(400)
    const { error } = await bad.json<{ error: { node: string; issues: Array<{ path: string; message: string }> } }>()
    expect(error.node).toBe('start')
    expect(error.issues).toEqual(expect.arrayContaining([
      { path: 'start.schedule.weekly[0].days', message: 'pick at least one day' },
      { path: 'start.schedule.weekly[0].to', message: expect.stringContaining('HH:MM') },
    ]))
    const schedule = { start: '2026-12-01T00:00', weekly: [{ days: ['sat', 'sun'], from: '10:00', to: '24:00' }] }
    const ok = await save({ start: { trigger: { type: 'page_visit' }, schedule } })
    expect(ok.status).toBe(200)
    const { id } = await ok.json<{ id: string }>()
    expect((await (await api('GET', `/sites/cons/workflows/${id}`)).json<{ start: { schedule: unknown } }>()).start.schedule).toEqual(schedule)
    const builder = await (await get(`${S}/workflows/${id}`, session.cookie)).text()
    expect(builder).toContain('"timeZone":"UTC"')
    await api('DELETE', `/sites/cons/workflows/${id}`)
  })
})

describe('the content form\'s schedule and options', () => {
  const fields = (extra: Record<string, string>) => ({ _csrf: session.csrf, name: 'Office bar', format: 'bar', position: 'top', title: 'We are open', on: 'immediately', ...extra })

  it('creates content with weekly hours, a start, the never-again options and whether it interrupts, and shows them again', async () => {
    const res = await post(`${S}/content`, fields({
      id: 'office-bar', interruptive: 'yes', neverAfterClosed: 'on', neverAfterConverted: 'on', scheduleStart: '2026-12-01T09:00', scheduleEnd: '',
      // Windows keep the numbers a page's script gave them, gaps and all.
      'weekly-0-mon': 'on', 'weekly-0-tue': 'on', 'weekly-0-from': '09:00', 'weekly-0-to': '00:00',
      'weekly-3-sat': 'on', 'weekly-3-from': '10:00', 'weekly-3-to': '14:00',
      'weekly-4-from': '', 'weekly-4-to': '',
    }), session.cookie)
    expect(res.status).toBe(303)
    const stored = await (await api('GET', '/sites/cons/content/office-bar')).json()
    expect(stored).toMatchObject({
      interruptive: true, neverAfterClosed: true, neverAfterConverted: true,
      schedule: { start: '2026-12-01T09:00', weekly: [{ days: ['mon', 'tue'], from: '09:00', to: '24:00' }, { days: ['sat'], from: '10:00', to: '14:00' }] },
    })
    const form = await (await get(`${S}/content/office-bar`, session.cookie)).text()
    expect(form).toMatch(/<option value="yes" selected="">Yes<\/option>/)
    expect(form).toMatch(/name="neverAfterClosed" checked=""/)
    expect(form).toMatch(/name="neverAfterConverted" checked=""/)
    expect(form).toContain('id="f-scheduleStart" name="scheduleStart" type="datetime-local" value="2026-12-01T09:00"')
    expect(form).toMatch(/name="weekly-1-sat" checked=""/)
    expect(form).toContain('name="weekly-0-to" type="time" value="00:00"')
    expect(form).toContain('<legend>Add weekly hours</legend>')
    expect(await (await get(`${S}/content`, session.cookie)).text()).toContain('<td>Mon, Tue 09:00–24:00; Sat 10:00–14:00 from 1 Dec 2026 09:00</td>')
  })

  it('shows each refused part of a schedule beside it, keeps what was typed, and saves nothing', async () => {
    const res = await post(`${S}/content`, fields({
      id: 'bad-hours', scheduleStart: '2026-12-10T00:00', scheduleEnd: '2026-12-01T00:00',
      'weekly-2-from': '09:00', 'weekly-2-to': '17:00',
      'weekly-5-mon': 'on', 'weekly-5-from': '9:00', 'weekly-5-to': '17:00',
    }), session.cookie)
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toContain('id="f-scheduleEnd-error">end must come after start<')
    expect(html).toContain('id="f-weekly-0-error">days: pick at least one day<')
    expect(html).toMatch(/id="f-weekly-1-error">from: must be a time HH:MM/)
    expect(html).toContain('name="weekly-1-from" type="time" value="9:00"')
    expect((await api('GET', '/sites/cons/content/bad-hours')).status).toBe(404)
  })

  it('clears the schedule and the options once the form is saved without them', async () => {
    expect((await post(`${S}/content/office-bar`, fields({}), session.cookie)).status).toBe(303)
    const stored = await (await api('GET', '/sites/cons/content/office-bar')).json<Record<string, unknown>>()
    for (const key of ['schedule', 'interruptive', 'neverAfterClosed', 'neverAfterConverted']) expect(stored[key], key).toBeUndefined()
  })
})
