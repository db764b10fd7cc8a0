/**
 * Content that converts, at the Worker: forms checked against the site's fields when saved, a form's
 * submission identifying the visitor (an unverified claim on a site that signs identities) and recorded,
 * tokens filled from the contact and escaped, and the version in the visitor's language.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { signIdentity } from '../../worker/visits/identity'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'

const edge = new Edge()
const S = '/sites/personal'
const KEY = 'pk_personal_key'

type Json = Record<string, any>

const newsletter = {
  id: 'newsletter',
  name: 'Newsletter',
  format: 'slide-in',
  title: 'Hi {{firstName | "there"}}',
  body: '<p>Weekly picks for {{firstName | "you"}}.</p>',
  form: {
    fields: [
      { key: 'email', label: 'Email', type: 'email', required: true },
      { key: 'firstName', label: 'First name', type: 'text' },
    ],
    consent: { text: 'Send me the weekly picks. Unsubscribe any time.', required: true },
    submit: 'Subscribe',
    thanks: 'Thanks! Check your inbox.',
  },
  neverAfterSubmitted: true,
  defaultLanguage: 'en',
  versions: { ar: { title: 'مرحبا {{firstName | "صديقي"}}', body: '<p>اختيارات الأسبوع</p>' } },
}

beforeAll(async () => {
  const site = await edge.admin('POST', '/sites', {
    id: 'personal', key: KEY, name: 'Personal', allowedOrigins: [ORIGIN], shards: 2,
    fields: [{ key: 'favouriteGenre', type: 'string' }], browserFields: ['firstName', 'birthDate', 'favouriteGenre'],
  })
  expect(site.status, JSON.stringify(site.body)).toBe(201)
  const made = await edge.admin('POST', `${S}/content`, newsletter)
  expect(made.status, JSON.stringify(made.body)).toBe(201)
  await edge.admin('POST', `${S}/workflows`, {
    id: 'wf_news', name: 'Newsletter', status: 'active', start: { trigger: { type: 'page_visit', url: { op: 'startsWith', value: `${ORIGIN}/blog` } } },
    entry: 'show', nodes: { show: { type: 'showContent', content: 'newsletter' } },
  })
})

const drain = async () => {
  while (edge.queue.length > 0) await edge.flush()
}

describe('saving content with a form and tokens', () => {
  it.each([
    ['a field the site does not have', { form: { ...newsletter.form, fields: [{ key: 'shoeSize', label: 'Shoe', type: 'number' }] } }, 'form.fields[0].key', 'not a field of this site'],
    ['a field browsers may not set', { form: { ...newsletter.form, fields: [{ key: 'lastName', label: 'Last name', type: 'text' }] } }, 'form.fields[0].key', 'browsers may set'],
    ['an input of the wrong type', { form: { ...newsletter.form, fields: [{ key: 'birthDate', label: 'Born', type: 'text' }] } }, 'form.fields[0].type', 'cannot fill it'],
    ['a token of an unknown field', { title: 'Hi {{shoeSize}}' }, 'title', '{{shoeSize}} is not a field'],
    ['a malformed token', { body: '<p>Hi {{firstName | there}}</p>' }, 'body', 'is not a token'],
    ['an unknown field in a version', { versions: { es: { title: 'Hola {{apodo}}' } } }, 'versions.es.title', '{{apodo}} is not a field'],
    ['a version named by no language', { versions: { 'not a tag': { title: 'Hola' } } }, 'versions.not a tag', 'is not a language tag'],
  ])('refuses %s beside the field at fault, and saves nothing', async (_, change, path, message) => {
    const res = await edge.admin<Json>('POST', `${S}/content`, { ...newsletter, id: 'refused', ...change })
    expect(res.status, JSON.stringify(res.body)).toBe(400)
    expect(res.body.error.issues).toEqual([{ path, message: expect.stringContaining(message) }])
    expect((await edge.admin('GET', `${S}/content/refused`)).status).toBe(404)
  })

  it('keeps a form and versions, their bodies sanitized', async () => {
    const res = await edge.admin<Json>('POST', `${S}/content`, { ...newsletter, id: 'kept', versions: { es: { body: '<p onclick="x()">Hola</p><script>x()</script>' } } })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body).toMatchObject({ form: newsletter.form, versions: { es: { body: '<p>Hola</p>' } } })
  })
})

describe('a visitor and the form', () => {
  it('fills the tokens with the fallback, then with the name, escaped in the body only', async () => {
    const first = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/blog/1`)] })
    expect(first.content[0]).toMatchObject({ id: 'newsletter', title: 'Hi there', body: '<p>Weekly picks for you.</p>', form: newsletter.form, lang: 'en' })
    expect(first.content[0]).not.toHaveProperty('versions')
    const named = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', fields: { firstName: 'Ana <b>' } }, pageVisit(`${ORIGIN}/blog/2`)] })
    expect(named.content[0]).toMatchObject({ title: 'Hi Ana <b>', body: '<p>Weekly picks for Ana &lt;b&gt;.</p>' })
  })

  it('shows the Arabic version, right to left, to a browser that reads Arabic', async () => {
    const answer = await edge.events({ site: KEY, events: [{ ...pageVisit(`${ORIGIN}/blog/ar`), language: 'ar-EG' }] })
    expect(answer.content[0]).toMatchObject({ title: 'مرحبا صديقي', body: '<p>اختيارات الأسبوع</p>', lang: 'ar', dir: 'rtl' })
  })

  it('keeps a visit whose language is not a language tag, showing the default version', async () => {
    const answer = await edge.events({ site: KEY, events: [{ ...pageVisit(`${ORIGIN}/blog/odd`), language: 'not a tag!' }] })
    expect(answer.content[0]).toMatchObject({ title: 'Hi there', lang: 'en' })
  })

  it('identifies the visitor with what the form sent, records the submission, and does not show the form again', async () => {
    const shown = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/blog/3`)] })
    const sent = await edge.events({
      site: KEY, contact: shown.contact, state: shown.state,
      events: [
        { id: eid(), type: 'identify', email: 'reader@example.com', fields: { firstName: 'Rita' } },
        { id: eid(), type: 'content', content: 'newsletter', action: 'submitted', workflow: 'wf_news', consent: true },
      ],
    })
    expect(sent.content).toEqual([])
    await drain()
    const id = await edge.contactOf('personal', sent)
    const contact = (await edge.admin<Json>('GET', `${S}/contacts/${id}`)).body
    // The site signs identities: an email from a form is the visitor's own claim, never a way into another contact.
    expect(contact).toMatchObject({ claimedEmail: 'reader@example.com', fields: { firstName: 'Rita' } })
    expect(contact.email ?? null).toBeNull()
    const timeline = (await edge.admin<Json>('GET', `${S}/contacts/${id}/events`)).body.items
    expect(timeline.find((e: Json) => e.type === 'content' && e.name === 'submitted')).toMatchObject({ contentId: 'newsletter', props: { workflow: 'wf_news', consent: true } })
    const again = await edge.events({ site: KEY, contact: sent.contact, events: [pageVisit(`${ORIGIN}/blog/4`)] })
    expect(again.content).toEqual([])
  })

  it('starts a workflow on the form sent, of that content only', async () => {
    await edge.admin('POST', `${S}/segments`, { id: 'seg_subscribers', name: 'Subscribers', type: 'static' })
    await edge.admin('POST', `${S}/content`, { id: 'survey', name: 'Survey', format: 'bar', form: { fields: [{ key: 'firstName', label: 'Name', type: 'text' }], submit: 'Send' } })
    expect((await edge.admin<Json>('POST', `${S}/workflows`, { name: 'Bad', status: 'active', start: { trigger: { type: 'contentSubmitted', content: 'nope' } }, entry: 'add', nodes: { add: { type: 'addToSegment', segment: 'seg_subscribers' } } })).body.error).toMatchObject({ node: 'start' })
    const made = await edge.admin<Json>('POST', `${S}/workflows`, {
      id: 'wf_subscribed', name: 'Subscribed', status: 'active', start: { trigger: { type: 'contentSubmitted', content: 'newsletter' } },
      entry: 'add', nodes: { add: { type: 'addToSegment', segment: 'seg_subscribers' } },
    })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    const submit = (content: string) => edge.events({ site: KEY, events: [{ id: eid(), type: 'content', content, action: 'submitted' }] })
    const survey = await submit('survey')
    const news = await submit('newsletter')
    await drain()
    const member = async (answer: { contact: string }) => (await edge.admin<Json>('GET', `${S}/contacts/${await edge.contactOf('personal', answer)}`)).body.segments.map((x: Json) => x.id)
    expect(await member(news)).toContain('seg_subscribers')
    expect(await member(survey)).not.toContain('seg_subscribers')
    expect((await edge.admin('DELETE', `${S}/content/newsletter`)).status).toBe(409)
  })

  it('refuses a submission of a field the site does not let browsers set, writing nothing', async () => {
    await drain()
    const res = await edge.fetch('/v1/events', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'text/plain' },
      body: JSON.stringify({ site: KEY, events: [{ id: eid(), type: 'identify', fields: { lastName: 'Nope' } }, { id: eid(), type: 'content', content: 'newsletter', action: 'submitted' }] }),
    })
    expect(res.status).toBe(400)
    expect(edge.queue).toHaveLength(0)
  })
})

describe('the demo store\'s newsletter', () => {
  const demo = new Edge()
  const DEMO_KEY = 'pk_news_demo_key'
  let secret = ''
  beforeAll(async () => {
    secret = await demo.seedDemo('news_demo', DEMO_KEY)
  })

  it('offers the sign-up form on an album page to a visitor the store has no email for, and not to a signed-in customer', async () => {
    const visitor = await demo.events({ site: DEMO_KEY, events: [pageVisit(`${ORIGIN}/demo/albums/neon-static`)] })
    expect(visitor.content.find((c) => c.id === 'newsletter')).toMatchObject({ format: 'inline', selector: '#newsletter', title: 'Weekly picks for you', form: { submit: 'Subscribe' } })
    const home = await demo.events({ site: DEMO_KEY, events: [pageVisit(`${ORIGIN}/demo`)] })
    expect(home.content.map((c) => c.id)).not.toContain('newsletter')
    const signature = await signIdentity(secret, { kind: 'email', value: 'ana@example.com' }, Date.now())
    const ana = await demo.events({ site: DEMO_KEY, events: [{ id: eid(), type: 'identify', email: 'ana@example.com', signature }, pageVisit(`${ORIGIN}/demo/albums/neon-static`)] })
    expect(ana.content.map((c) => c.id)).not.toContain('newsletter')
  })
})

