import { describe, expect, it } from 'vitest'
import { type StoredContent } from '../../shared/content'
import { chooseLanguage, fillTokens, personalize, tokensOf } from './personalize'

const NOW = Date.UTC(2026, 10, 29, 12)

const offer: StoredContent = {
  id: 'offer',
  format: 'popup',
  title: 'Hello {{firstName | "there"}}',
  body: '<p>{{ firstName }}, your {{favouriteGenre|"music"}} picks</p>',
  cta: { label: 'Shop, {{firstName|"friend"}}', url: 'https://shop.example/' },
  display: { on: 'immediately' },
  defaultLanguage: 'en',
  versions: {
    ar: { title: 'مرحبا {{firstName | "صديقي"}}', body: '<p>عرض</p>' },
    'pt-BR': { title: 'Olá {{firstName | "você"}}' },
    es: { title: 'Hola' },
  },
}

describe('tokens', () => {
  it('reads a field and an optional fallback, with or without spaces', () => {
    expect(tokensOf('Hi {{firstName}} and {{ city | "your town" }}').tokens).toEqual([{ field: 'firstName' }, { field: 'city', fallback: 'your town' }])
  })

  it('finds a malformed token', () => {
    for (const text of ['Hi {{first name}}', 'Hi {{firstName | there}}', 'Hi {{firstName', '{{}}']) expect(tokensOf(text).malformed, text).toBeDefined()
    expect(tokensOf('Hi {{firstName}}, 100% off { not a token }').malformed).toBeUndefined()
  })

  it('writes the value, the fallback when there is none, and nothing without a fallback', () => {
    expect(fillTokens('Hi {{firstName | "there"}}', { firstName: 'Ana' }, false)).toBe('Hi Ana')
    expect(fillTokens('Hi {{firstName | "there"}}', {}, false)).toBe('Hi there')
    expect(fillTokens('Hi {{firstName | "there"}}', { firstName: '' }, false)).toBe('Hi there')
    expect(fillTokens('Hi {{firstName}}!', {}, false)).toBe('Hi !')
    expect(fillTokens('{{age}} years', { age: 34 }, false)).toBe('34 years')
  })

  it('escapes a value written into HTML, and only there', () => {
    const fields = { firstName: '<img src=x onerror=alert(1)>"&\'' }
    expect(fillTokens('<p>{{firstName}}</p>', fields, true)).toBe('<p>&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#39;</p>')
    expect(fillTokens('{{firstName}}', fields, false)).toBe(fields.firstName)
  })
})

describe('languages', () => {
  it('picks the exact version, then the primary language, then a version of the same primary language', () => {
    expect(chooseLanguage(offer, 'ar')).toBe('ar')
    expect(chooseLanguage(offer, 'ar-EG')).toBe('ar')
    expect(chooseLanguage(offer, 'PT-br')).toBe('pt-BR')
    expect(chooseLanguage(offer, 'pt')).toBe('pt-BR')
    expect(chooseLanguage(offer, 'es-MX')).toBe('es')
  })

  it('keeps the default for its own language, for one it has no version of, and when none is known', () => {
    expect(chooseLanguage(offer, 'en-GB')).toBeUndefined()
    expect(chooseLanguage(offer, 'de')).toBeUndefined()
    expect(chooseLanguage(offer, undefined)).toBeUndefined()
  })

  it('sends one version, its language, and right to left for Arabic', () => {
    const ar = personalize(offer, { language: 'ar-EG', fields: { firstName: 'Layla' }, now: NOW })
    expect(ar).toMatchObject({ title: 'مرحبا Layla', body: '<p>عرض</p>', lang: 'ar', dir: 'rtl', cta: { label: 'Shop, Layla' } })
    const en = personalize(offer, { language: 'en-US', fields: {}, now: NOW })
    expect(en).toMatchObject({ title: 'Hello there', body: '<p>, your music picks</p>', lang: 'en' })
    expect(en).not.toHaveProperty('dir')
  })
})

describe('display triggers worked out at the edge', () => {
  it('turns seconds on the site into the delay left of them', () => {
    const timed: StoredContent = { ...offer, display: { on: 'timeOnSite', seconds: 60 } }
    expect(personalize(timed, { fields: {}, sessionStart: NOW - 20_000, now: NOW }).display).toEqual({ on: 'delay', ms: 40_000 })
    expect(personalize(timed, { fields: {}, sessionStart: NOW - 90_000, now: NOW }).display).toEqual({ on: 'immediately' })
    expect(personalize(timed, { fields: {}, now: NOW }).display).toEqual({ on: 'delay', ms: 60_000 })
  })

  it('sends page-view content at once (the edge held it back until then)', () => {
    expect(personalize({ ...offer, display: { on: 'pageViews', count: 3 } }, { fields: {}, now: NOW }).display).toEqual({ on: 'immediately' })
  })
})
