/**
 * The content form's inputs and the content they stand for, both ways: a stored piece of content as the
 * flat values the form shows, the values a form sends as the content API's input, and where in the form a
 * refusal of that input goes. The page's script builds the live preview with the same functions, so the
 * preview shows what saving would store.
 *
 * Repeated parts carry their number in their inputs' names: a form's fields (`form-field-0-key`), versions
 * in other languages (`v-0-lang`) and their forms (`v-0-form-field-1-label`), weekly hours (schedule.ts).
 */
import { type ContentForm, type ContentVersion, type FormField, type StoredContent } from '../../shared/content'
import { scheduleFields, scheduleOf, windowCount } from './schedule'

export type Values = Record<string, string>

/** The input type each field a form may ask for takes on this site (email, and the fields browsers may set). */
export type FieldInputs = Record<string, FormField['type']>

/** The spec of a piece of content as stored: what the form shows and sends back. */
type Spec = Omit<StoredContent, 'id'>

/** The form's single inputs, as they are named (the schedule, forms and versions add their own). */
const SINGLE = [
  'id', 'name', 'format', 'position', 'selector', 'placement', 'title', 'body', 'image', 'ctaLabel', 'ctaUrl',
  'on', 'ms', 'percent', 'clickSelector', 'idleSeconds', 'pageViewCount', 'siteSeconds',
  'backdropCloses', 'interruptive', 'neverAfterClosed', 'neverAfterConverted', 'neverAfterSubmitted', 'defaultLanguage',
] as const

/** What a version shows of its own; its form has inputs of its own (`v-0-form-...`). */
const VERSION_INPUTS = ['lang', 'title', 'body', 'ctaLabel', 'ctaUrl', 'ownForm'] as const
const FIELD_INPUTS = ['key', 'label', 'required'] as const

/** The inputs of the form of a version, or of the content (`form`). */
export const versionForm = (i: number) => `v-${i}-form`

const on = (b: boolean | undefined) => (b ? 'on' : '')

/**
 * The values the form shows for stored content (all but its name and id).
 *
 * @example
 * contentValues({ format: 'bar', display: { on: 'click', selector: '.size-guide' } }).clickSelector // '.size-guide'
 */
export function contentValues(s: Spec): Values {
  const d = s.display
  const v: Values = {
    format: s.format,
    position: s.position ?? '',
    selector: s.selector ?? '',
    placement: s.placement ?? 'inside',
    title: s.title ?? '',
    body: s.body ?? '',
    image: s.image ?? '',
    ctaLabel: s.cta?.label ?? '',
    ctaUrl: s.cta?.url ?? '',
    on: d.on,
    ms: d.on === 'delay' ? String(d.ms) : '',
    percent: d.on === 'scroll' ? String(d.percent) : '',
    clickSelector: d.on === 'click' ? d.selector : '',
    idleSeconds: d.on === 'idle' ? String(d.seconds) : '',
    pageViewCount: d.on === 'pageViews' ? String(d.count) : '',
    siteSeconds: d.on === 'timeOnSite' ? String(d.seconds) : '',
    backdropCloses: s.backdropCloses === false ? '' : 'on',
    interruptive: s.interruptive === undefined ? '' : s.interruptive ? 'yes' : 'no',
    neverAfterClosed: on(s.neverAfterClosed),
    neverAfterConverted: on(s.neverAfterConverted),
    neverAfterSubmitted: on(s.neverAfterSubmitted),
    defaultLanguage: s.defaultLanguage ?? '',
    ...scheduleFields(s.schedule),
    ...formValues('form', s.form),
  }
  Object.entries(s.versions ?? {}).forEach(([lang, version], i) => Object.assign(v, versionValues(i, lang, version)))
  return v
}

/** The inputs of a form (`prefix` is `form` or a version's): each field's, then the consent, submit and thanks. */
export function formValues(prefix: string, form: ContentForm | undefined): Values {
  const v: Values = {
    [`${prefix}-consent`]: form?.consent?.text ?? '',
    [`${prefix}-consentRequired`]: on(form?.consent?.required),
    [`${prefix}-submit`]: form?.submit ?? '',
    [`${prefix}-thanks`]: form?.thanks ?? '',
  }
  form?.fields.forEach((f, i) => Object.assign(v, { [`${prefix}-field-${i}-key`]: f.key, [`${prefix}-field-${i}-label`]: f.label, [`${prefix}-field-${i}-required`]: on(f.required) }))
  return v
}

function versionValues(i: number, lang: string, version: ContentVersion): Values {
  return {
    [`v-${i}-lang`]: lang,
    [`v-${i}-title`]: version.title ?? '',
    [`v-${i}-body`]: version.body ?? '',
    [`v-${i}-ctaLabel`]: version.cta?.label ?? '',
    [`v-${i}-ctaUrl`]: version.cta?.url ?? '',
    [`v-${i}-ownForm`]: on(version.form !== undefined),
    ...formValues(versionForm(i), version.form),
  }
}

/** How many of something numbered from 0 the values hold: `count(v, (i) => \`v-${i}-\`)`. */
function count(v: Values, prefixOf: (i: number) => string): number {
  const keys = Object.keys(v)
  let n = 0
  while (keys.some((k) => k.startsWith(prefixOf(n)))) n++
  return n
}

/** How many fields a form's values hold. */
export const fieldCount = (v: Values, prefix: string) => count(v, (i) => `${prefix}-field-${i}-`)

/** How many versions in other languages the values hold. */
export const versionCount = (v: Values) => count(v, (i) => `v-${i}-`)

/** The numbers a repeated part carries in the sent names, in order: `v-3-…` and `v-7-…` give [3, 7]. */
function numbersOf(sent: Values, name: RegExp): number[] {
  const found = new Set<number>()
  for (const key of Object.keys(sent)) {
    const m = name.exec(key)
    if (m) found.add(Number(m[1]))
  }
  return [...found].sort((a, b) => a - b)
}

/** A form's values as sent under `from`, renumbered under `to`; a field that asks for nothing is left out. */
function sentForm(sent: Values, from: string, to: string): Values {
  const out: Values = {}
  for (const k of ['consent', 'consentRequired', 'submit', 'thanks']) out[`${to}-${k}`] = (sent[`${from}-${k}`] ?? '').trim()
  let i = 0
  for (const n of numbersOf(sent, new RegExp(`^${from}-field-(\\d{1,2})-`))) {
    const [key, label, required] = FIELD_INPUTS.map((k) => (sent[`${from}-field-${n}-${k}`] ?? '').trim())
    if (!key) continue
    Object.assign(out, { [`${to}-field-${i}-key`]: key, [`${to}-field-${i}-label`]: label, [`${to}-field-${i}-required`]: required })
    i++
  }
  return out
}

/**
 * What a content form sent, as the form shows it again: its inputs by name (a textarea's CRLF line breaks
 * as stored, LF), the repeated parts renumbered from 0 in the order of their numbers (a page's script may
 * have removed some), and parts left out or wholly blank dropped: a field that asks for nothing, a version with
 * nothing filled in, a weekly window with no days and no hours.
 */
export function sentValues(form: Record<string, unknown>): Values {
  const sent: Values = {}
  for (const [k, v] of Object.entries(form)) if (typeof v === 'string') sent[k] = v.replace(/\r\n?/g, '\n')
  const out: Values = Object.fromEntries(SINGLE.map((k) => [k, sent[k] ?? '']))
  Object.assign(out, scheduleOf(sent).fields, sentForm(sent, 'form', 'form'))
  let i = 0
  for (const n of numbersOf(sent, /^v-(\d{1,2})-/)) {
    const version: Values = Object.fromEntries(VERSION_INPUTS.map((k) => [`v-${i}-${k}`, sent[`v-${n}-${k}`] ?? '']))
    version[`v-${i}-lang`] = version[`v-${i}-lang`].trim()
    // A version's form counts only when it has a form of its own.
    if (Object.values(version).every((x) => x.trim() === '')) continue
    Object.assign(out, version, sentForm(sent, `v-${n}-form`, versionForm(i)))
    i++
  }
  return out
}

const number = (s: string) => (s.trim() === '' ? 0 : Number(s))

function displayOf(v: Values): Record<string, unknown> {
  switch (v.on) {
    case 'delay': return { on: 'delay', ms: number(v.ms) }
    case 'scroll': return { on: 'scroll', percent: number(v.percent) }
    case 'click': return { on: 'click', selector: v.clickSelector }
    case 'idle': return { on: 'idle', seconds: number(v.idleSeconds) }
    case 'pageViews': return { on: 'pageViews', count: number(v.pageViewCount) }
    case 'timeOnSite': return { on: 'timeOnSite', seconds: number(v.siteSeconds) }
    default: return { on: v.on || 'immediately' }
  }
}

/** A form's values as a form, or nothing when none of its inputs is filled in. */
function formOf(v: Values, prefix: string, inputs: FieldInputs): Record<string, unknown> | undefined {
  const fields = Array.from({ length: fieldCount(v, prefix) }, (_, i) => {
    const key = v[`${prefix}-field-${i}-key`]
    const required = v[`${prefix}-field-${i}-required`] === 'on'
    return { key, label: v[`${prefix}-field-${i}-label`], type: inputs[key] ?? 'text', ...(required ? { required } : {}) }
  })
  const [consent, consentRequired, submit, thanks] = ['consent', 'consentRequired', 'submit', 'thanks'].map((k) => v[`${prefix}-${k}`] ?? '')
  if (fields.length === 0 && !consent && !consentRequired && !submit && !thanks) return undefined
  return {
    fields,
    ...(consent || consentRequired ? { consent: { text: consent, ...(consentRequired ? { required: true } : {}) } } : {}),
    submit,
    ...(thanks ? { thanks } : {}),
  }
}

function versionsOf(v: Values, inputs: FieldInputs): Record<string, unknown> | undefined {
  const n = versionCount(v)
  if (n === 0) return undefined
  const versions: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) {
    const at = (k: string) => v[`v-${i}-${k}`] ?? ''
    const version: Record<string, unknown> = {}
    if (at('title')) version.title = at('title')
    if (at('body')) version.body = at('body')
    // A label alone is a translation of the default's call to action: it leads where the default's does.
    if (at('ctaLabel') || at('ctaUrl')) version.cta = { label: at('ctaLabel'), url: at('ctaUrl') || v.ctaUrl }
    if (at('ownForm') === 'on') version.form = formOf(v, versionForm(i), inputs) ?? { fields: [], submit: '' }
    versions[at('lang')] = version
  }
  return versions
}

/**
 * The content API's input for a form's values: everything the form shows, so that saving it (which
 * replaces the whole content) keeps what the form holds and clears only what was cleared in it.
 *
 * @example
 * contentInput({ name: 'Hi', format: 'bar', on: 'idle', idleSeconds: '30', title: 'Still there?' }, {}).display
 * // { on: 'idle', seconds: 30 }
 */
export function contentInput(v: Values, inputs: FieldInputs): Record<string, unknown> {
  const input: Record<string, unknown> = { name: v.name, format: v.format, display: displayOf(v) }
  if (v.format === 'inline') {
    input.selector = v.selector || undefined
    input.placement = v.placement || 'inside'
  } else if (v.position) input.position = v.position
  for (const k of ['title', 'body', 'image'] as const) if (v[k]) input[k] = v[k]
  if (v.ctaLabel || v.ctaUrl) input.cta = { label: v.ctaLabel, url: v.ctaUrl }
  if (v.format === 'popup') input.backdropCloses = v.backdropCloses === 'on'
  if (v.interruptive) input.interruptive = v.interruptive === 'yes'
  for (const k of ['neverAfterClosed', 'neverAfterConverted', 'neverAfterSubmitted'] as const) if (v[k] === 'on') input[k] = true
  const { schedule } = scheduleOf(v)
  if (schedule) input.schedule = schedule
  const form = formOf(v, 'form', inputs)
  if (form) input.form = form
  const versions = versionsOf(v, inputs)
  if (versions) input.versions = versions
  if (v.defaultLanguage?.trim()) input.defaultLanguage = v.defaultLanguage.trim()
  return input
}

/**
 * Keeps the stored schedule, form and versions that the form sent back as it showed them. The form's
 * inputs cannot tell some stored values from their equals (a start date from its midnight, days in
 * another order, `required: false` from no `required`, an empty version title from none): what the owner
 * did not touch is saved as it was.
 */
export function keepUnchanged(input: Record<string, unknown>, sent: Values, stored: Spec): void {
  const shown = contentValues(stored)
  const same = (test: (key: string) => boolean, theirs: Values) =>
    [...new Set([...Object.keys(sent), ...Object.keys(theirs)])].filter(test).every((k) => (sent[k] ?? '') === (theirs[k] ?? ''))
  if (stored.schedule && same((k) => k.startsWith('schedule') || k.startsWith('weekly-'), shown)) input.schedule = stored.schedule
  if (stored.form && same((k) => k.startsWith('form-'), shown)) input.form = stored.form
  const versions = input.versions as Record<string, unknown> | undefined
  for (let i = 0; versions && i < versionCount(sent); i++) {
    const lang = sent[`v-${i}-lang`]
    const theirs = stored.versions?.[lang]
    if (theirs && same((k) => k.startsWith(`v-${i}-`), versionValues(i, lang, theirs))) versions[lang] = theirs
  }
}

/**
 * Where the form shows a refusal of its input: the API's path (`versions.ar.form.fields[1].label`) as the
 * input's name and what within it is at fault (`v-0-form-field-1-label`). Anything about a schedule goes
 * beside its start, end or window, as schedule.ts does for the workflow builder.
 */
export function inputPath(path: string, v: Values): string {
  const version = /^versions\.([^.[]+)(?:\.(.*))?$/.exec(path)
  if (version) {
    const i = Array.from({ length: versionCount(v) }, (_, n) => n).find((n) => v[`v-${n}-lang`] === version[1])
    if (i === undefined) return 'versions'
    const rest = version[2] ?? ''
    if (rest === '') return `v-${i}-lang`
    if (rest.startsWith('form')) return formInput(rest, versionForm(i))
    return `v-${i}-${rest.startsWith('cta.url') ? 'ctaUrl' : rest.startsWith('cta') ? 'ctaLabel' : rest.split('.')[0]}`
  }
  if (path.startsWith('form')) return formInput(path, 'form')
  if (path.startsWith('cta')) return path.startsWith('cta.url') ? 'ctaUrl' : 'ctaLabel'
  const display = /^display\.(ms|percent|selector|seconds|count)/.exec(path)
  if (display) return { ms: 'ms', percent: 'percent', selector: 'clickSelector', seconds: v.on === 'idle' ? 'idleSeconds' : 'siteSeconds', count: 'pageViewCount' }[display[1]]!
  if (path.startsWith('display')) return 'display'
  const schedule = /^schedule\.(?:(start|end)|weekly\[(\d+)\]\.?(.*))/.exec(path)
  if (schedule?.[1]) return schedule[1] === 'start' ? 'scheduleStart' : 'scheduleEnd'
  if (schedule) return `weekly-${schedule[2]}${schedule[3] ? `.${schedule[3]}` : ''}`
  return path
}

/** A form's input for a path inside it: a field's key (its type follows the key) or label, the consent, submit or thanks. */
function formInput(path: string, prefix: string): string {
  const field = /^form\.fields\[(\d+)\](?:\.(\w+))?/.exec(path)
  if (field) return `${prefix}-field-${field[1]}-${field[2] === 'label' ? 'label' : 'key'}`
  const part = /^form\.(consent|submit|thanks)/.exec(path)
  return part ? `${prefix}-${part[1]}` : `${prefix}-fields`
}

/** Every input of the form a refusal can be shown beside, for these values. */
export function inputNames(v: Values): string[] {
  const form = (prefix: string) => [
    `${prefix}-fields`, `${prefix}-consent`, `${prefix}-submit`, `${prefix}-thanks`,
    ...Array.from({ length: fieldCount(v, prefix) }, (_, i) => [`${prefix}-field-${i}-key`, `${prefix}-field-${i}-label`]).flat(),
  ]
  const versions = Array.from({ length: versionCount(v) }, (_, i) => [...['lang', 'title', 'body', 'ctaLabel', 'ctaUrl'].map((k) => `v-${i}-${k}`), ...form(versionForm(i))]).flat()
  const windows = Array.from({ length: windowCount(v) }, (_, i) => `weekly-${i}`)
  return [...SINGLE, 'display', 'schedule', 'scheduleStart', 'scheduleEnd', ...windows, 'versions', ...form('form'), ...versions]
}
