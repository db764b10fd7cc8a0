/**
 * The console's content editor, through the Worker as a browser without JavaScript uses it: a form built
 * field by field, the display triggers, versions in other languages and tokens saved through the form and
 * shown again, each refusal beside the input at fault, content made through the API saved unchanged by the
 * form and read back identical, and the sample contacts the live preview fills tokens with.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'

const edge = new Edge()
const SITE = 'editor'
const KEY = 'pk_editor_key'
const S = `/admin/sites/${SITE}`

type Json = Record<string, any>

let cookie: string
let csrf: string

beforeAll(async () => {
  const site = await edge.admin('POST', '/sites', {
    id: SITE, key: KEY, name: 'Editor shop', allowedOrigins: [ORIGIN], shards: 2,
    fields: [{ key: 'plan', type: 'string' }, { key: 'shoeSize', type: 'number' }], browserFields: ['firstName', 'plan', 'birthDate', 'shoeSize'],
  })
  expect(site.status, JSON.stringify(site.body)).toBe(201)
  cookie = await edge.consoleCookie('192.0.2.240')
  csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(await (await page(`${S}/content/new`)).text())![1]
})

const page = (path: string) => edge.fetch(path, { headers: { cookie }, redirect: 'manual' })

/** Posts a form as a browser does: urlencoded, every entry in order, with the session's CSRF token. */
const post = (path: string, entries: Array<[string, string]> | Record<string, string>) =>
  edge.fetch(path, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([['_csrf', csrf], ...(Array.isArray(entries) ? entries : Object.entries(entries))]).toString(),
    redirect: 'manual',
  })

const content = async (id: string) => edge.admin<Json>('GET', `/sites/${SITE}/content/${id}`)

const basics = { name: 'Newsletter', format: 'slide-in', position: 'bottom-right', on: 'immediately', title: 'Hi {{firstName | "there"}}' }

/** The refusals a page shows, by the id of the element that says each, for a failing test to tell. */
const refusals = (html: string) => [...html.matchAll(/<div class="(?:error|alert)"[^>]*>[^<]*/g)].map((m) => m[0]).join('\n')

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" }
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ENTITIES[e])

/**
 * What a browser without JavaScript sends when the content form on a page is submitted untouched: each
 * named input's value (a checkbox only when ticked, a select's selected option or its first, a textarea's
 * text without the leading newline HTML drops and with its line breaks sent as CRLF), in document order.
 */
function submission(html: string): Array<[string, string]> {
  const start = html.indexOf('id="content-form"')
  const form = html.slice(start, html.indexOf('</form>', start))
  const entries: Array<[string, string]> = []
  const attrs = (tag: string) => Object.fromEntries([...tag.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].slice(1).map((m) => [m[1], decode(m[2] ?? '')]))
  for (const m of form.matchAll(/<input\b[^>]*>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea>|<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    if (m[0].startsWith('<input')) {
      const a = attrs(m[0])
      if (!a.name || (a.type === 'checkbox' && !('checked' in a))) continue
      entries.push([a.name, a.type === 'checkbox' ? (a.value ?? 'on') : (a.value ?? '')])
    } else if (m[0].startsWith('<textarea')) {
      entries.push([attrs(`<t ${m[1]}`).name, decode(m[2]).replace(/^\n/, '').replace(/\n/g, '\r\n')])
    } else {
      const options = [...m[4].matchAll(/<option\b[^>]*>/g)].map((o) => attrs(o[0]))
      entries.push([attrs(`<s ${m[3]}`).name, (options.find((o) => 'selected' in o) ?? options[0]).value])
    }
  }
  return entries
}

describe('building a form in the content editor', () => {
  it('saves the fields in the order they are numbered, leaving out one that asks for nothing, with consent, submit, thanks and never again after sent', async () => {
    const res = await post(`${S}/content`, {
      ...basics, id: 'news',
      // A page's script renumbers fields as they move; the server reads them in the order of their numbers.
      'form-field-3-key': 'firstName', 'form-field-3-label': 'First name',
      'form-field-1-key': 'email', 'form-field-1-label': 'Email', 'form-field-1-required': 'on',
      // "Nothing (left out)": the field is removed, whatever its label says.
      'form-field-4-key': '', 'form-field-4-label': 'Phone',
      'form-consent': 'Send me the weekly picks.', 'form-consentRequired': 'on', 'form-submit': 'Subscribe', 'form-thanks': 'Thanks!',
      neverAfterSubmitted: 'on',
    })
    expect(res.status, await res.clone().text()).toBe(303)
    const stored = (await content('news')).body
    expect(stored.form).toEqual({
      fields: [{ key: 'email', label: 'Email', type: 'email', required: true }, { key: 'firstName', label: 'First name', type: 'text' }],
      consent: { text: 'Send me the weekly picks.', required: true },
      submit: 'Subscribe',
      thanks: 'Thanks!',
    })
    expect(stored.neverAfterSubmitted).toBe(true)
    const html = await (await page(`${S}/content/news`)).text()
    expect(html).toMatch(/name="form-field-0-key"[^>]*>(?:(?!<\/select>)[\s\S])*<option value="email" data-label="Email" selected="">Email · email<\/option>/)
    expect(html).toContain('name="form-field-1-label" type="text" value="First name"')
    expect(html).toMatch(/name="form-field-0-required" checked=""/)
    expect(html).toContain('<legend>Add a field</legend>')
    expect(html).toMatch(/name="neverAfterSubmitted" checked=""/)
  })

  it('gives each field the input its type takes: a number, a date, text', async () => {
    const res = await post(`${S}/content`, {
      ...basics, id: 'sizes', 'form-field-0-key': 'shoeSize', 'form-field-0-label': 'Shoe size', 'form-field-1-key': 'birthDate', 'form-field-1-label': 'Born', 'form-field-2-key': 'plan', 'form-field-2-label': 'Plan', 'form-submit': 'Send',
    })
    expect(res.status, await res.clone().text()).toBe(303)
    expect((await content('sizes')).body.form.fields.map((f: Json) => f.type)).toEqual(['number', 'date', 'text'])
  })

  it('removes the form once its fields and texts are cleared', async () => {
    expect((await post(`${S}/content/sizes`, basics)).status).toBe(303)
    expect((await content('sizes')).body.form).toBeUndefined()
  })
})

describe('display triggers in the content editor', () => {
  it.each([
    ['a click of an element', { on: 'click', clickSelector: '.size-guide' }, { on: 'click', selector: '.size-guide' }, 'clickSelector', '.size-guide'],
    ['inactivity', { on: 'idle', idleSeconds: '45' }, { on: 'idle', seconds: 45 }, 'idleSeconds', '45'],
    ['page views in the session', { on: 'pageViews', pageViewCount: '3' }, { on: 'pageViews', count: 3 }, 'pageViewCount', '3'],
    ['time on the site', { on: 'timeOnSite', siteSeconds: '90' }, { on: 'timeOnSite', seconds: 90 }, 'siteSeconds', '90'],
  ])('saves the content shown on %s, and shows the choice again', async (_, sent, display, input, value) => {
    const id = `trigger-${sent.on.toLowerCase()}`
    expect((await post(`${S}/content`, { ...basics, id, ...sent })).status).toBe(303)
    expect((await content(id)).body.display).toEqual(display)
    const html = await (await page(`${S}/content/${id}`)).text()
    expect(html).toMatch(new RegExp(`<option value="${sent.on}" selected="">`))
    expect(html).toContain(`name="${input}" type="${input === 'clickSelector' ? 'text' : 'number'}" value="${value}"`)
  })

  it('lists when each piece of content shows, in words', async () => {
    const list = await (await page(`${S}/content`)).text()
    expect(list).toContain('<td>On a click of .size-guide</td>')
    expect(list).toContain('<td>From page view 3 of a session</td>')
  })
})

describe('languages in the content editor', () => {
  it('saves versions with their own title, body and call to action, and a form of their own where ticked', async () => {
    const res = await post(`${S}/content`, [
      ...Object.entries({ ...basics, id: 'intl', ctaLabel: 'Read more', ctaUrl: 'https://shop.example/picks', defaultLanguage: 'en' }),
      // A label alone leads where the default's call to action does.
      ['v-0-lang', 'ar'], ['v-0-title', 'مرحبا {{firstName | "صديقي"}}'], ['v-0-body', '<p>اختيارات الأسبوع</p>'], ['v-0-ctaLabel', 'اقرأ المزيد'], ['v-0-ctaUrl', ''],
      // A version's form is left out unless it has one of its own.
      ['v-0-form-field-0-key', 'email'], ['v-0-form-field-0-label', 'Ignored'], ['v-0-form-submit', 'Ignored'],
      ['v-4-lang', 'es'], ['v-4-title', 'Hola {{firstName | "amigo"}}'], ['v-4-ownForm', 'on'],
      ['v-4-form-field-0-key', 'email'], ['v-4-form-field-0-label', 'Correo'], ['v-4-form-field-0-required', 'on'], ['v-4-form-submit', 'Suscribirme'],
      // The blank version a page without its script ends with.
      ['v-5-lang', ''], ['v-5-title', ''], ['v-5-form-field-0-key', ''],
    ])
    expect(res.status, await res.clone().text()).toBe(303)
    const stored = (await content('intl')).body
    expect(stored.defaultLanguage).toBe('en')
    expect(stored.versions).toEqual({
      ar: { title: 'مرحبا {{firstName | "صديقي"}}', body: '<p>اختيارات الأسبوع</p>', cta: { label: 'اقرأ المزيد', url: 'https://shop.example/picks' } },
      es: { title: 'Hola {{firstName | "amigo"}}', form: { fields: [{ key: 'email', label: 'Correo', type: 'email', required: true }], submit: 'Suscribirme' } },
    })
    const html = await (await page(`${S}/content/intl`)).text()
    expect(html).toContain('<legend>Version in ar</legend>')
    expect(html).toContain('name="v-1-form-field-0-label" type="text" value="Correo"')
    expect(html).toMatch(/name="v-1-ownForm" checked=""/)
    expect(html).toContain('<option value="es">es</option>')
  })

  it('reaches a visitor as saved: the name filled in, and the Arabic version right to left', async () => {
    await edge.admin('POST', `/sites/${SITE}/workflows`, {
      id: 'wf_intl', name: 'Intl', status: 'active', start: { trigger: { type: 'page_visit', url: { op: 'contains', value: '/intl' } } },
      entry: 'show', nodes: { show: { type: 'showContent', content: 'intl' } },
    })
    const named = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', fields: { firstName: 'Zoe' } }, pageVisit(`${ORIGIN}/intl/1`)] })
    expect(named.content[0]).toMatchObject({ id: 'intl', title: 'Hi Zoe', lang: 'en' })
    const arabic = await edge.events({ site: KEY, events: [{ ...pageVisit(`${ORIGIN}/intl/2`), language: 'ar' }] })
    expect(arabic.content[0]).toMatchObject({ title: 'مرحبا صديقي', lang: 'ar', dir: 'rtl', cta: { label: 'اقرأ المزيد' } })
  })
})

describe('refusals in the content editor', () => {
  it.each([
    ['a field browsers may not set', { 'form-field-0-key': 'email', 'form-field-0-label': 'Email', 'form-field-1-key': 'lastName', 'form-field-1-label': 'Surname', 'form-submit': 'Go' }, 'form-field-1-key', 'not among the fields browsers may set', 'name="form-field-1-label" type="text" value="Surname"'],
    ['a form without a submit label', { 'form-field-0-key': 'email', 'form-field-0-label': 'Email' }, 'form-submit', 'Too small', 'name="form-field-0-label" type="text" value="Email"'],
    ['a field without a label', { 'form-field-0-key': 'email', 'form-submit': 'Go' }, 'form-field-0-label', 'Too small', 'name="form-submit" type="text" value="Go"'],
    ['a field asked for twice', { 'form-field-0-key': 'email', 'form-field-0-label': 'Email', 'form-field-1-key': 'email', 'form-field-1-label': 'Again', 'form-submit': 'Go' }, 'form-fields', 'ask for each field once', 'value="Again"'],
    ['a consent ticked required without its text', { 'form-field-0-key': 'email', 'form-field-0-label': 'Email', 'form-submit': 'Go', 'form-consentRequired': 'on' }, 'form-consent', 'Too small', 'name="form-consentRequired" checked=""'],
    ['a token of an unknown field in the title', { title: 'Hi {{nickname}}' }, 'title', '{{nickname}} is not a field of this site', 'value="Hi {{nickname}}"'],
    ['a malformed token in the call to action', { ctaLabel: 'Go {{firstName | there}}', ctaUrl: 'https://shop.example/' }, 'ctaLabel', 'is not a token', 'value="Go {{firstName | there}}"'],
    ['a click trigger without its selector', { on: 'click', clickSelector: ' ' }, 'clickSelector', 'Too small', '<option value="click" selected="">'],
    ['an idle trigger of no seconds', { on: 'idle', idleSeconds: '0' }, 'idleSeconds', 'Too small', 'name="idleSeconds" type="number" value="0"'],
    ['a version without its language', { 'v-0-title': 'Hola' }, 'v-0-lang', 'name the language of this version', 'name="v-0-title" type="text" value="Hola"'],
    ['two versions in one language', { 'v-0-lang': 'es', 'v-0-title': 'Hola', 'v-1-lang': 'es', 'v-1-title': 'Buenas' }, 'v-1-lang', 'there is a version in es already', 'value="Buenas"'],
    ['a language that is not a tag', { 'v-0-lang': 'Spanish!', 'v-0-title': 'Hola' }, 'v-0-lang', 'must be a language tag', 'value="Spanish!"'],
    ['an unknown field in a version\'s body', { 'v-0-lang': 'es', 'v-0-body': '<p>Hola {{apodo}}</p>' }, 'v-0-body', '{{apodo}} is not a field of this site', '&lt;p&gt;Hola {{apodo}}&lt;/p&gt;</textarea>'],
    ['a version\'s own form without fields', { 'v-0-lang': 'es', 'v-0-ownForm': 'on', 'v-0-form-submit': 'Enviar' }, 'v-0-form-fields', 'a form needs at least one field', 'name="v-0-form-submit" type="text" value="Enviar"'],
    ['a field browsers may not set in a version\'s form', { 'v-0-lang': 'es', 'v-0-ownForm': 'on', 'v-0-form-field-0-key': 'lastName', 'v-0-form-field-0-label': 'Apellido', 'v-0-form-submit': 'Enviar' }, 'v-0-form-field-0-key', 'not among the fields browsers may set', 'value="Apellido"'],
  ])('shows %s beside its input, keeps what was typed, and saves nothing', async (_, sent, input, message, kept) => {
    const res = await post(`${S}/content`, { ...basics, id: 'refused', ...sent })
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toMatch(new RegExp(`id="f-${input}-error">[^<]*${message.replace(/[{}|()]/g, '\\$&')}`))
    expect(html, refusals(html)).toMatch(new RegExp(`aria-describedby="[^"]*f-${input}-error"`))
    expect(html).not.toContain('class="alert"')
    expect(html).toContain(kept)
    expect((await content('refused')).status).toBe(404)
  })
})

describe('saving content the form shows in full', () => {
  const everything = {
    id: 'everything',
    name: 'Everything',
    format: 'popup',
    position: 'top-right',
    title: 'Hi {{firstName | "there"}}',
    body: '<p>One</p>\n<p>Two &amp; <strong>three</strong></p>',
    image: 'https://images.example/cover.png',
    cta: { label: 'Shop {{plan | "now"}}', url: 'https://shop.example/deals?a=1&b=2' },
    display: { on: 'idle', seconds: 20 },
    backdropCloses: false,
    interruptive: false,
    // A date alone and days out of order: what the form's inputs show otherwise, kept as stored.
    schedule: { start: '2026-12-01', end: '2027-01-15T18:30', weekly: [{ days: ['sat', 'fri'], from: '22:00', to: '02:00' }] },
    neverAfterClosed: true,
    neverAfterConverted: true,
    neverAfterSubmitted: true,
    form: {
      fields: [
        { key: 'email', label: 'Email "work"', type: 'email', required: true },
        { key: 'firstName', label: 'First name', type: 'text', required: false },
        { key: 'shoeSize', label: 'Shoe size', type: 'number' },
      ],
      consent: { text: 'Yes, <email> me & more', required: false },
      submit: 'Subscribe',
      thanks: 'Thanks!',
    },
    defaultLanguage: 'en',
    versions: {
      ar: { title: 'مرحبا', body: '<p>أهلا</p>', cta: { label: 'تسوق', url: 'https://shop.example/ar' }, form: { fields: [{ key: 'email', label: 'البريد', type: 'email', required: true }], submit: 'اشترك' } },
      'pt-BR': { title: '' },
      es: { body: '<p>Hola</p>\n<p>¿Qué tal?</p>\n' },
    },
  }

  it('reads back identical through the API once content made there is opened and saved unchanged in the console', async () => {
    const made = await edge.admin<Json>('POST', `/sites/${SITE}/content`, everything)
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    const { updatedAt: _before, ...before } = made.body
    const html = await (await page(`${S}/content/everything`)).text()
    const res = await post(`${S}/content/everything`, submission(html).filter(([name]) => name !== '_csrf'))
    expect(res.status, await res.clone().text()).toBe(303)
    const { updatedAt: _after, ...after } = (await content('everything')).body
    expect(after).toEqual(before)
  })

  it('keeps a stored form with a field the site no longer lets browsers set on offer, and says so when saved', async () => {
    const made = await edge.admin<Json>('POST', `/sites/${SITE}/content`, { ...everything, id: 'outdated', versions: undefined })
    expect(made.status).toBe(201)
    expect((await edge.admin('PATCH', `/sites/${SITE}`, { browserFields: ['firstName', 'plan', 'birthDate'] })).status).toBe(200)
    const html = await (await page(`${S}/content/outdated`)).text()
    expect(html).toContain('<option value="shoeSize" data-label="shoeSize" selected="">shoeSize (not a field browsers may set)</option>')
    const res = await post(`${S}/content/outdated`, submission(html).filter(([name]) => name !== '_csrf'))
    expect(res.status).toBe(400)
    const refused = await res.text()
    expect(refused, refusals(refused)).toMatch(/id="f-form-field-2-key-error">&quot;shoeSize&quot; is not among the fields browsers may set/)
    expect((await content('outdated')).body.form).toEqual(everything.form)
    await edge.admin('PATCH', `/sites/${SITE}`, { browserFields: ['firstName', 'plan', 'birthDate', 'shoeSize'] })
  })

  it('saves what the owner changed, keeping the rest as stored', async () => {
    const html = await (await page(`${S}/content/everything`)).text()
    const changed = submission(html)
      .filter(([name]) => name !== '_csrf' && name !== 'neverAfterClosed')
      .map(([name, value]): [string, string] => [name, name === 'v-0-title' ? 'أهلا وسهلا' : value])
    changed.push(['form-field-1-required', 'on'])
    const res = await post(`${S}/content/everything`, changed)
    expect(res.status, refusals(await res.clone().text())).toBe(303)
    const stored = (await content('everything')).body
    expect(stored.neverAfterClosed).toBeUndefined()
    expect(stored.versions.ar).toEqual({ ...everything.versions.ar, title: 'أهلا وسهلا' })
    expect(stored.form.fields[1]).toEqual({ key: 'firstName', label: 'First name', type: 'text', required: true })
    expect(stored.schedule).toEqual(everything.schedule)
    expect(stored.versions['pt-BR']).toEqual({ title: '' })
  })
})

describe('the preview\'s sample contacts', () => {
  it('offers the most recently seen contacts with a first name, with the fields tokens are filled from', async () => {
    const now = Date.now()
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'zoe', email: 'zoe@example.com', fields: { firstName: 'Zoe', lastName: 'Ng', plan: 'pro' } })
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'nameless', email: 'nameless@example.com', fields: { plan: 'free' } })
    const res = await page(`${S}/content/preview/contacts`)
    expect(res.status).toBe(200)
    const { contacts } = await res.json<{ contacts: Json[] }>()
    expect(contacts.map((c) => c.name)).toContain('Zoe Ng')
    expect(contacts.some((c) => c.email === 'nameless@example.com')).toBe(false)
    const zoe = contacts.find((c) => c.name === 'Zoe Ng')!
    expect(zoe).toMatchObject({ email: 'zoe@example.com', fields: { firstName: 'Zoe', plan: 'pro', email: 'zoe@example.com' } })
    expect(zoe.fields.createdAt).toBeGreaterThanOrEqual(now - 1000)
  })

  it('are for a signed-in owner only', async () => {
    const res = await edge.fetch(`${S}/content/preview/contacts`, { headers: { accept: 'application/json' } })
    expect(res.status).toBe(401)
  })
})
