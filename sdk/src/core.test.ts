/**
 * The SDK's core as a page lives with it, in happy-dom with fetch faked: what it sends and keeps, consent
 * and privacy signals, single-page navigation (hash routes too), the renderer loaded only for content,
 * what a form sends, storage fallbacks, and pages that replace JSON or fetch.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type ContentPayload } from '../../shared/content'
import { type Renderer, create } from './core'
import { reset } from './render'
import { toJson } from './json'
import { openStore } from './storage'

interface Sent {
  site: string
  contact?: string
  state?: string
  events: Array<{ id: string; type: string; url?: string; [k: string]: unknown }>
}

let sent: Sent[]
let answer: { contact: string; state?: string; content: unknown[] }
/** How the core loads the renderer, as the ESM build does: counted, to see when it is. */
let load: ReturnType<typeof vi.fn<() => Promise<Renderer>>>

function fakeFetch() {
  return vi.fn(async (_url: string, init: RequestInit) => {
    sent.push(JSON.parse(init.body as string))
    return { ok: true, json: async () => answer } as unknown as Response
  })
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(1)
}

beforeEach(() => {
  // Nothing shown, and no popup waiting, from the test before.
  reset()
  vi.useFakeTimers()
  sent = []
  answer = { contact: 'c_worker', state: '1.sealed', content: [] }
  load = vi.fn(() => import('./render'))
  localStorage.clear()
  window.fetch = fakeFetch() as unknown as typeof fetch
  history.replaceState({}, '', '/start')
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('sending', () => {
  it('records the page visit, sends it, and keeps the contact id and state the Worker returns', async () => {
    create({ site: 'pk_a', endpoint: 'https://edge.example/' }, load).start()
    await settle()
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({ site: 'pk_a', events: [{ type: 'page_visit', url: 'http://localhost:3000/start' }] })
    expect(sent[0]).not.toHaveProperty('contact')
    expect(localStorage.getItem('segue_c_pk_a')).toBe('c_worker')
    expect(localStorage.getItem('segue_s_pk_a')).toBe('1.sealed')
    const s = create({ site: 'pk_a', endpoint: 'https://edge.example' }, load)
    s.track('signup', { plan: 'pro' })
    await settle()
    expect(sent[1]).toMatchObject({ contact: 'c_worker', state: '1.sealed', events: [{ type: 'custom', name: 'signup', props: { plan: 'pro' } }] })
  })

  it('posts text/plain to /v1/events with keepalive', async () => {
    create({ site: 'pk_a', endpoint: 'https://edge.example' }, load).start()
    await settle()
    const [url, init] = (window.fetch as unknown as ReturnType<typeof fakeFetch>).mock.calls[0]
    expect(url).toBe('https://edge.example/v1/events')
    expect(init).toMatchObject({ method: 'POST', keepalive: true })
    expect(init.headers).toBeUndefined()
    expect(typeof init.body).toBe('string')
  })

  it('sends purchases and identify as the Worker expects them', async () => {
    const s = create({ site: 'pk_a', endpoint: 'https://edge.example' }, load)
    s.identify({ email: 'ana@example.com', signature: '1764410000.5f1c', fields: { birthDate: '1990-04-02' } })
    s.track('purchase', { orderId: 'o-1', amount: 24.9, currency: 'EUR' })
    await settle()
    expect(sent[0].events.map(({ id: _id, ...e }) => e)).toEqual([
      { type: 'identify', email: 'ana@example.com', signature: '1764410000.5f1c', fields: { birthDate: '1990-04-02' } },
      { type: 'purchase', orderId: 'o-1', amount: 24.9, currency: 'EUR' },
    ])
  })

  it('never throws into the page when the network fails, and drops a decision slower than 3 s', async () => {
    window.fetch = vi.fn(() => Promise.reject(new TypeError('offline'))) as unknown as typeof fetch
    const s = create({ site: 'pk_a', endpoint: 'https://edge.example' }, load)
    expect(() => s.start()).not.toThrow()
    await settle()
    let aborted = false
    window.fetch = vi.fn((_u: string, init: RequestInit) => new Promise((_, reject) => init.signal!.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted')))))) as unknown as typeof fetch
    const slow = create({ site: 'pk_b', endpoint: 'https://edge.example' }, load)
    slow.track('x')
    await settle()
    await vi.advanceTimersByTimeAsync(3000)
    expect(aborted).toBe(true)
    expect(localStorage.getItem('segue_c_pk_b')).not.toBe('c_worker')
  })

  it('logs nothing unless debug is on', async () => {
    const log = vi.spyOn(console, 'log')
    window.fetch = vi.fn(() => Promise.reject(new TypeError('offline'))) as unknown as typeof fetch
    create({ site: 'pk_a', endpoint: 'https://edge.example' }, load).start()
    await settle()
    expect(log).not.toHaveBeenCalled()
    create({ site: 'pk_a', endpoint: 'https://edge.example', debug: true }, load).start()
    await settle()
    expect(log).toHaveBeenCalled()
  })

  it('sends what is left with sendBeacon when the page is hidden', async () => {
    const beacon = vi.fn(() => true)
    Object.defineProperty(navigator, 'sendBeacon', { value: beacon, configurable: true })
    const s = create({ site: 'pk_a', endpoint: 'https://edge.example' }, load)
    s.track('leaving')
    window.dispatchEvent(new Event('pagehide'))
    expect(beacon).toHaveBeenCalledTimes(1)
    const [url, blob] = beacon.mock.calls[0] as unknown as [string, Blob]
    expect(url).toBe('https://edge.example/v1/events')
    expect(JSON.parse(await blob.text()).events[0]).toMatchObject({ type: 'custom', name: 'leaving' })
  })
})

describe('content', () => {
  const newsletter: ContentPayload = {
    id: 'newsletter',
    workflow: 'wf_news',
    format: 'popup',
    title: 'Join the list',
    display: { on: 'immediately' },
    form: {
      fields: [
        { key: 'email', label: 'Email', type: 'email', required: true },
        { key: 'firstName', label: 'First name', type: 'text' },
        { key: 'birthDate', label: 'Born on', type: 'date' },
      ],
      consent: { text: 'Send me the weekly letter', required: true },
      submit: 'Subscribe',
      thanks: 'Thank you!',
    },
  }
  const shown = () => document.querySelector('[data-segue]')?.shadowRoot

  it('loads the renderer only once an answer carries content, and only once', async () => {
    const s = create({ site: 'pk_r', endpoint: 'https://edge.example' }, load)
    s.start()
    await settle()
    expect(load).not.toHaveBeenCalled()
    answer.content = [{ ...newsletter, form: undefined }]
    s.track('x')
    await settle()
    expect(load).toHaveBeenCalledTimes(1)
    expect(shown()!.querySelector('h2')!.textContent).toBe('Join the list')
    s.track('y')
    await settle()
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('tries the renderer again with the next content when loading it failed', async () => {
    load.mockRejectedValueOnce(new TypeError('offline'))
    answer.content = [{ ...newsletter, form: undefined }]
    const s = create({ site: 'pk_r', endpoint: 'https://edge.example' }, load)
    s.start()
    await settle()
    expect(shown()).toBeUndefined()
    s.track('again')
    await settle()
    expect(load).toHaveBeenCalledTimes(2)
    expect(shown()!.querySelector('h2')!.textContent).toBe('Join the list')
  })

  it('sends a submitted form as an identify and a submitted content event, in one batch', async () => {
    answer.content = [newsletter]
    create({ site: 'pk_r', endpoint: 'https://edge.example' }, load).start()
    await settle()
    answer.content = []
    const root = shown()!
    const inputs = root.querySelectorAll('input')
    inputs[0].value = ' ana@example.com '
    inputs[1].value = 'Ana'
    inputs[3].checked = true
    root.querySelector('form')!.requestSubmit()
    await settle()
    expect(sent[sent.length - 1].events.map(({ id: _id, ...e }) => e)).toEqual([
      { type: 'identify', email: 'ana@example.com', fields: { firstName: 'Ana' } },
      { type: 'content', content: 'newsletter', action: 'submitted', workflow: 'wf_news', consent: true },
    ])
  })
})

describe('consent and privacy', () => {
  it('sends and stores nothing before consent, then sends the page visit', async () => {
    const s = create({ site: 'pk_c', endpoint: 'https://edge.example', consentRequired: true }, load)
    s.start()
    s.track('early')
    await settle()
    expect(sent).toEqual([])
    expect(localStorage.length).toBe(0)
    expect(document.cookie).toBe('')
    s.consent(true)
    await settle()
    expect(sent[0].events.map((e) => e.type)).toEqual(['page_visit', 'custom'])
    expect(localStorage.getItem('segue_c_pk_c')).toBe('c_worker')
  })

  it('forgets the contact when consent is withdrawn', async () => {
    const s = create({ site: 'pk_c', endpoint: 'https://edge.example' }, load)
    s.start()
    await settle()
    s.consent(false)
    expect(localStorage.getItem('segue_c_pk_c')).toBeNull()
    s.track('after')
    await settle()
    expect(sent).toHaveLength(1)
  })

  it('honours Global Privacy Control and Do Not Track unless told not to', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true })
    create({ site: 'pk_d', endpoint: 'https://edge.example' }, load).start()
    await settle()
    expect(sent).toEqual([])
    create({ site: 'pk_d', endpoint: 'https://edge.example', respectDnt: false }, load).start()
    await settle()
    expect(sent).toHaveLength(1)
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: undefined, configurable: true })
    Object.defineProperty(navigator, 'doNotTrack', { value: '1', configurable: true })
    create({ site: 'pk_d', endpoint: 'https://edge.example' }, load).start()
    await settle()
    expect(sent).toHaveLength(1)
    Object.defineProperty(navigator, 'doNotTrack', { value: null, configurable: true })
  })
})

describe('single-page apps', () => {
  it('counts each navigation once: pushState, replaceState and popstate, never the same URL twice in a row', async () => {
    create({ site: 'pk_e', endpoint: 'https://edge.example' }, load).start()
    await settle()
    history.pushState({}, '', '/albums/a')
    await vi.advanceTimersByTimeAsync(600)
    history.pushState({}, '', '/albums/a')
    history.pushState({}, '', '/albums/a#reviews')
    await vi.advanceTimersByTimeAsync(600)
    history.replaceState({}, '', '/albums/b?sort=new')
    await vi.advanceTimersByTimeAsync(600)
    history.pushState({}, '', '/albums/a')
    window.dispatchEvent(new PopStateEvent('popstate'))
    await vi.advanceTimersByTimeAsync(600)
    const mine = sent.filter((b) => b.site === 'pk_e')
    const urls = mine.flatMap((b) => b.events.filter((e) => e.type === 'page_visit').map((e) => new URL(e.url!).pathname + new URL(e.url!).search))
    expect(urls).toEqual(['/start', '/albums/a', '/albums/b?sort=new', '/albums/a'])
    expect(mine.flatMap((b) => b.events).find((e) => e.url?.endsWith('/albums/b?sort=new'))).toMatchObject({ referrer: 'http://localhost:3000/albums/a' })
  })
})

describe('page visits', () => {
  it('carry the browser\'s language', async () => {
    create({ site: 'pk_l', endpoint: 'https://edge.example' }, load).start()
    await settle()
    expect(sent[0].events[0]).toMatchObject({ type: 'page_visit', language: navigator.language })
    expect(navigator.language).toBeTruthy()
  })

  it('count hash-route changes when the site is routed by hash', async () => {
    create({ site: 'pk_h', endpoint: 'https://edge.example', hashRoutes: true }, load).start()
    await settle()
    history.pushState({}, '', '/start#/albums')
    await vi.advanceTimersByTimeAsync(600)
    history.pushState({}, '', '/start#/albums/blue-hours')
    await vi.advanceTimersByTimeAsync(600)
    history.pushState({}, '', '/start#/albums/blue-hours')
    await vi.advanceTimersByTimeAsync(600)
    const urls = sent.flatMap((b) => b.events.filter((e) => e.type === 'page_visit').map((e) => e.url!.replace('http://localhost:3000', '')))
    expect(urls).toEqual(['/start', '/start#/albums', '/start#/albums/blue-hours'])
  })
})

describe('storage', () => {
  it('falls back to a first-party cookie when localStorage is blocked', () => {
    vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError')
    })
    const store = openStore()
    store.set('segue_c_x', 'abc')
    expect(document.cookie).toContain('segue_c_x=abc')
    expect(store.get('segue_c_x')).toBe('abc')
    store.set('segue_c_x', null)
    expect(store.get('segue_c_x')).toBeFalsy()
  })

  it('falls back to memory when cookies are blocked too', () => {
    vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError')
    })
    vi.spyOn(document, 'cookie', 'get').mockReturnValue('')
    vi.spyOn(document, 'cookie', 'set').mockImplementation(() => undefined)
    const store = openStore()
    store.set('k', 'v')
    expect(store.get('k')).toBe('v')
  })
})

describe('hostile pages', () => {
  it('writes correct JSON when JSON.stringify is replaced and arrays have a toJSON', () => {
    const real = JSON.stringify
    const proto = Array.prototype as unknown as { toJSON?: () => string }
    try {
      JSON.stringify = () => 'broken'
      proto.toJSON = () => 'nope'
      const text = toJson({ site: 'a', events: [{ id: '1', n: 1.5, ok: true, no: undefined, q: 'say "hi"\n\u2028' }] })
      JSON.stringify = real
      delete proto.toJSON
      expect(JSON.parse(text)).toEqual({ site: 'a', events: [{ id: '1', n: 1.5, ok: true, q: 'say "hi"\n\u2028' }] })
    } finally {
      JSON.stringify = real
      delete proto.toJSON
    }
  })

  it('keeps the fetch it found when the page replaces fetch later', async () => {
    const s = create({ site: 'pk_f', endpoint: 'https://edge.example' }, load)
    window.fetch = () => {
      throw new Error('replaced')
    }
    s.track('still')
    await settle()
    expect(sent.map((b) => b.events[0].name)).toEqual(['still'])
  })
})
