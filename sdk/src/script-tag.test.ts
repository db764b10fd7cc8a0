/**
 * The script-tag build in happy-dom: it replays the calls the page's stub queued, becomes window.segue,
 * honours data-endpoint and data-hash-routes, and without data-site does nothing and adds no global.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'

type Segue = ((...args: unknown[]) => void) & { q?: unknown[] }
const w = window as unknown as { segue?: Segue }

afterEach(() => {
  delete w.segue
  vi.useRealTimers()
})

async function loadScriptTag(attrs: Record<string, string>) {
  const script = document.createElement('script')
  script.src = 'https://edge.example/sdk.js'
  for (const [k, v] of Object.entries(attrs)) script.setAttribute(k, v)
  Object.defineProperty(document, 'currentScript', { value: script, configurable: true })
  vi.resetModules()
  await import('./script-tag')
}

describe('the script tag', () => {
  it('replays calls queued by the stub before the page visit, then becomes window.segue', async () => {
    vi.useFakeTimers()
    const bodies: Array<{ site: string; events: Array<{ type: string }> }> = []
    window.fetch = vi.fn(async (url: string, init: RequestInit) => {
      expect(url).toBe('https://edge.example/v1/events')
      bodies.push(JSON.parse(init.body as string))
      return { ok: true, json: async () => ({ contact: 'c_1', content: [] }) } as unknown as Response
    }) as unknown as typeof fetch
    // The one-line stub a site pastes before the script tag:
    // window.segue=window.segue||function(){(segue.q=segue.q||[]).push(arguments)}
    w.segue = w.segue || function (...args: unknown[]) { (w.segue!.q = w.segue!.q || []).push(args) }
    w.segue('identify', { fields: { birthDate: '1990-04-02' } })
    w.segue('track', 'signup', { plan: 'pro' })
    await loadScriptTag({ 'data-site': 'pk_tag' })
    await vi.advanceTimersByTimeAsync(1)
    expect(bodies[0].site).toBe('pk_tag')
    expect(bodies[0].events.map((e) => e.type)).toEqual(['identify', 'custom', 'page_visit'])
    expect(w.segue.q).toBeUndefined()
    w.segue('track', 'later')
    await vi.advanceTimersByTimeAsync(1)
    expect(bodies[1].events.map((e) => e.type)).toEqual(['custom'])
  })

  it('uses data-endpoint when given', async () => {
    vi.useFakeTimers()
    const urls: string[] = []
    window.fetch = vi.fn(async (url: string) => {
      urls.push(url)
      return { ok: true, json: async () => ({ contact: 'c_1', content: [] }) } as unknown as Response
    }) as unknown as typeof fetch
    await loadScriptTag({ 'data-site': 'pk_tag2', 'data-endpoint': 'https://segue.shop.example' })
    await vi.advanceTimersByTimeAsync(1)
    expect(urls).toEqual(['https://segue.shop.example/v1/events'])
  })

  it('counts hash-route changes as page visits with data-hash-routes', async () => {
    vi.useFakeTimers()
    const urls: string[] = []
    window.fetch = vi.fn(async (_url: string, init: RequestInit) => {
      for (const e of JSON.parse(init.body as string).events) if (e.type === 'page_visit') urls.push(new URL(e.url).hash)
      return { ok: true, json: async () => ({ contact: 'c_1', content: [] }) } as unknown as Response
    }) as unknown as typeof fetch
    history.replaceState({}, '', '/#/albums')
    await loadScriptTag({ 'data-site': 'pk_tag3', 'data-hash-routes': '' })
    await vi.advanceTimersByTimeAsync(1)
    location.hash = '#/albums/blue-hours'
    await vi.advanceTimersByTimeAsync(600)
    expect(urls).toEqual(['#/albums', '#/albums/blue-hours'])
  })

  it('does nothing, and breaks nothing, without data-site', async () => {
    const before = Object.keys(window).length
    await loadScriptTag({})
    expect(w.segue).toBeUndefined()
    expect(Object.keys(window).length).toBe(before)
  })
})
