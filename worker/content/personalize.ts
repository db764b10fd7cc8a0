/**
 * Content made for one visitor at the edge: the version in the visitor's language, the contact's fields
 * in place of `{{firstName | "there"}}` tokens (escaped as what they land in needs), and the display
 * triggers the edge works out. Plain data in, plain data out.
 */
import { type ContentPayload, type ContentVersion, type Display, type EdgeDisplay, type StoredContent } from '../../shared/content'
import { type Scalar } from '../conditions/types'
import { escapeAttr } from './sanitize'

/**
 * `{{ key }}` or `{{ key | "fallback" }}`: a field key, and what to write when the contact has no value
 * (nothing when no fallback is given). A fallback holds no `"`, `{` or `}`.
 */
const TOKEN = /\{\{\s*([A-Za-z][A-Za-z0-9_]{0,63})\s*(?:\|\s*"([^"{}]{0,100})"\s*)?\}\}/g
/** Anything that opens a token: what TOKEN does not read whole is malformed. */
const OPENING = /\{\{/g

export interface Token {
  field: string
  fallback?: string
}

/** The tokens of a text, or the first malformed one (its text) when one does not parse. */
export function tokensOf(text: string): { tokens: Token[]; malformed?: string } {
  const tokens: Token[] = []
  const spans: Array<[number, number]> = []
  for (const m of text.matchAll(TOKEN)) {
    tokens.push(m[2] === undefined ? { field: m[1] } : { field: m[1], fallback: m[2] })
    spans.push([m.index, m.index + m[0].length])
  }
  for (const m of text.matchAll(OPENING)) {
    if (!spans.some(([from, to]) => m.index >= from && m.index < to)) return { tokens, malformed: text.slice(m.index, m.index + 40) }
  }
  return { tokens }
}


/**
 * A text with its tokens replaced by the contact's values (or their fallbacks). In HTML (a body) the
 * values are escaped; in plain text (a title, a label) the browser sets them as text, never as markup.
 */
export function fillTokens(text: string, fields: Readonly<Record<string, Scalar>>, html: boolean): string {
  if (!text.includes('{{')) return text
  return text.replace(TOKEN, (_, key: string, fallback: string | undefined) => {
    const value = Object.hasOwn(fields, key) ? fields[key] : undefined
    const out = value === undefined || value === null || value === '' ? (fallback ?? '') : String(value)
    // A token may sit in an attribute of the sanitized body (a link's address): escaped for either place.
    return html ? escapeAttr(out) : out
  })
}

/** Primary language subtags written right to left. */
const RTL = new Set(['ar', 'arc', 'ckb', 'dv', 'fa', 'he', 'iw', 'ps', 'sd', 'ug', 'ur', 'yi'])

const primary = (tag: string) => tag.split('-')[0].toLowerCase()

/**
 * The language of `content` to show a visitor who reads `wanted`: a version of exactly that language,
 * else of its primary language (pt-BR → pt), else one of the same primary language (pt → pt-PT); the
 * default (undefined) when none fits or none is wanted.
 */
export function chooseLanguage(content: Pick<StoredContent, 'versions' | 'defaultLanguage'>, wanted: string | undefined): string | undefined {
  const versions = Object.keys(content.versions ?? {})
  if (!wanted || versions.length === 0) return undefined
  const w = wanted.toLowerCase()
  const all = content.defaultLanguage ? [content.defaultLanguage, ...versions] : versions
  const pick = all.find((v) => v.toLowerCase() === w) ?? all.find((v) => v.toLowerCase() === primary(w)) ?? all.find((v) => primary(v) === primary(w))
  return pick === content.defaultLanguage ? undefined : pick
}

/** What a visitor is shown of stored content: the version of its language, its tokens filled, the display the browser runs. */
export interface Personal {
  /** The language the visitor reads (its `language` field, else the browser's), if known. */
  language?: string
  fields: Readonly<Record<string, Scalar>>
  /** When the visitor's session started, and now: for "after N seconds on the site". */
  sessionStart?: number
  now: number
}

/** The payload a browser gets for `content` (with the edge-only options left out by the caller). */
export function personalize(content: StoredContent, who: Personal): Omit<ContentPayload, 'id'> & { id: string } {
  const lang = chooseLanguage(content, who.language)
  const version: ContentVersion = lang ? content.versions![lang] : {}
  const out: ContentPayload = { ...content, ...version, display: browserDisplay(content.display, who) }
  const shownLang = lang ?? content.defaultLanguage
  delete out.lang
  delete out.dir
  if (shownLang) out.lang = shownLang
  if (shownLang && RTL.has(primary(shownLang))) out.dir = 'rtl'
  if (out.title) out.title = fillTokens(out.title, who.fields, false)
  if (out.body) out.body = fillTokens(out.body, who.fields, true)
  if (out.cta) out.cta = { ...out.cta, label: fillTokens(out.cta.label, who.fields, false) }
  return out
}

/** A display the edge works out, as the browser runs it: seconds on the site become the delay left. */
function browserDisplay(display: Display | EdgeDisplay, who: Personal): Display {
  if (display.on === 'pageViews') return { on: 'immediately' }
  if (display.on !== 'timeOnSite') return display
  const left = display.seconds * 1000 - (who.now - (who.sessionStart ?? who.now))
  return left > 0 ? { on: 'delay', ms: Math.min(left, 600_000) } : { on: 'immediately' }
}
