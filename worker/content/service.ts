/**
 * The work behind content, shared with the console: each spec made complete for its format and its HTML
 * body sanitized before it is saved; content a workflow shows cannot be deleted.
 */
import { type z } from 'zod'
import { type Content, allContent, deleteContent, getContent, saveContent } from '../data/content'
import { type Site } from '../data/sites'
import { allWorkflows } from '../data/workflows'
import { type Changes } from '../background/changes'
import { refuse, notFound } from '../http/errors'
import { newId } from '../lib/ids'
import { nodesReferring } from '../workflows/graph'
import { sanitizeHtml } from './sanitize'
import { tokensOf } from './personalize'
import { type ContentForm, type FormField } from '../../shared/content'
import { FieldCatalog, type FieldType } from '../conditions/fields'
import { type ContentSpec, type contentCreate, type contentPatch } from './schema'

export function contentJson(c: Content) {
  return { id: c.id, name: c.name, ...c.spec, createdAt: new Date(c.createdAt).toISOString(), updatedAt: new Date(c.updatedAt).toISOString() }
}

/**
 * A complete, consistent spec: defaults filled in, fields that do not apply to the format dropped, bodies
 * sanitized, and its form and tokens checked against the site's fields.
 */
function normalize(site: Site, input: Partial<ContentSpec> & { format: ContentSpec['format'] }): ContentSpec {
  const spec: ContentSpec = { format: input.format, display: input.display ?? { on: 'immediately' } }
  if (input.format === 'inline') {
    if (!input.selector) throw refuse('invalid', 'invalid_request', 'selector: an inline block needs the CSS selector of the element it goes with', { field: 'selector', issues: [{ path: 'selector', message: 'an inline block needs the CSS selector of the element it goes with' }] })
    spec.selector = input.selector
    spec.placement = input.placement ?? 'inside'
  } else if (input.format === 'bar') {
    if (input.position && input.position !== 'top' && input.position !== 'bottom') {
      throw refuse('invalid', 'invalid_request', 'position: a bar sits at the top or the bottom', { field: 'position', issues: [{ path: 'position', message: 'a bar sits at the top or the bottom' }] })
    }
    spec.position = input.position ?? 'top'
  } else {
    spec.position = input.position ?? (input.format === 'popup' ? 'center' : 'bottom-right')
  }
  if (input.format === 'popup') spec.backdropCloses = input.backdropCloses ?? true
  if (input.title) spec.title = input.title
  if (input.body) spec.body = sanitizeHtml(input.body)
  if (input.image) spec.image = input.image
  if (input.cta) spec.cta = input.cta
  if (input.interruptive !== undefined) spec.interruptive = input.interruptive
  if (input.schedule) spec.schedule = input.schedule
  if (input.neverAfterClosed) spec.neverAfterClosed = true
  if (input.neverAfterConverted) spec.neverAfterConverted = true
  if (input.neverAfterSubmitted) spec.neverAfterSubmitted = true
  if (input.form) spec.form = checkForm(site, input.form, 'form')
  if (input.versions && Object.keys(input.versions).length > 0) {
    spec.versions = Object.fromEntries(
      Object.entries(input.versions).map(([lang, v]) => [lang, { ...v, ...(v.body ? { body: sanitizeHtml(v.body) } : {}), ...(v.form ? { form: checkForm(site, v.form, `versions.${lang}.form`) } : {}) }]),
    )
  }
  if (input.defaultLanguage) spec.defaultLanguage = input.defaultLanguage
  checkTokens(site, spec)
  if (!spec.title && !spec.body && !spec.image && !spec.cta && !spec.form) throw refuse('invalid', 'invalid_request', 'content needs at least a title, a body, an image, a call to action or a form')
  return spec
}

/** What a form field's type writes, as the contact field's type. */
const FORM_TYPES: Record<FormField['type'], FieldType[]> = { email: ['string'], text: ['string'], number: ['number'], date: ['date'], checkbox: ['boolean'] }

/** A form whose fields a browser may set on this site, each with an input of the field's type. */
function checkForm(site: Site, form: ContentForm, path: string): ContentForm {
  const catalog = new FieldCatalog(site.fields)
  form.fields.forEach((f, i) => {
    const at = `${path}.fields[${i}].key`
    if (f.key === 'email') return
    const info = catalog.get(f.key)
    if (!info) throw invalid(at, `"${f.key}" is not a field of this site`)
    if (!site.browserFields.includes(f.key)) throw invalid(at, `"${f.key}" is not among the fields browsers may set on this site: add it to the site's browser fields first`)
    if (!FORM_TYPES[f.type].includes(info.type)) throw invalid(`${path}.fields[${i}].type`, `"${f.key}" holds ${info.type === 'string' ? 'text' : `a ${info.type}`}: a ${f.type} input cannot fill it`)
  })
  return form
}

/** Tokens in the texts a visitor reads must parse and name fields the site has. */
function checkTokens(site: Site, spec: ContentSpec): void {
  const catalog = new FieldCatalog(site.fields)
  const texts: Array<[string, string | undefined]> = [['title', spec.title], ['body', spec.body], ['cta.label', spec.cta?.label]]
  for (const [lang, v] of Object.entries(spec.versions ?? {})) texts.push([`versions.${lang}.title`, v.title], [`versions.${lang}.body`, v.body], [`versions.${lang}.cta.label`, v.cta?.label])
  for (const [at, text] of texts) {
    if (!text) continue
    const { tokens, malformed } = tokensOf(text)
    if (malformed !== undefined) throw invalid(at, `"${malformed}" is not a token: write {{firstName}} or {{firstName | "there"}}`)
    const unknown = tokens.find((t) => !catalog.get(t.field))
    if (unknown) throw invalid(at, `{{${unknown.field}}} is not a field of this site`)
  }
}

const invalid = (path: string, message: string) => refuse('invalid', 'invalid_request', `${path}: ${message}`, { field: path.split(/[.[]/)[0], issues: [{ path, message }] })

export async function createContent(db: D1Database, site: Site, input: z.output<typeof contentCreate>, changes: Changes, now = Date.now()): Promise<Content> {
  const { id: wanted, name, ...spec } = input
  const id = wanted ?? newId('cnt', 12)
  if (await getContent(db, site.id, id)) throw refuse('conflict', 'content_exists', `Content with id "${id}" already exists`, { field: 'id' })
  const content: Content = { id, name, spec: normalize(site, spec), createdAt: now, updatedAt: now }
  await saveContent(db, site.id, content).run()
  changes.siteConfig(site)
  return content
}

/**
 * Updates content: the patch's values replace the current ones. With `replace`, the patch is the whole
 * spec (as a form sends it) and what it leaves out is cleared.
 */
export async function updateContent(db: D1Database, site: Site, id: string, patch: z.output<typeof contentPatch>, changes: Changes, now = Date.now(), opts: { replace?: boolean } = {}): Promise<Content> {
  const current = await getContent(db, site.id, id)
  if (!current) throw notFound('content', id)
  const { name, ...spec } = patch
  const merged = opts.replace ? { format: current.spec.format, display: current.spec.display, ...spec } : { ...current.spec, ...spec }
  const next: Content = { ...current, name: name ?? current.name, spec: normalize(site, merged), updatedAt: now }
  await saveContent(db, site.id, next).run()
  changes.siteConfig(site)
  return next
}

/** Deletes content, unless a workflow shows it. */
export async function removeContent(db: D1Database, site: Site, id: string, changes: Changes): Promise<void> {
  if (!(await getContent(db, site.id, id))) throw notFound('content', id)
  for (const w of await allWorkflows(db, site.id)) {
    const nodes = nodesReferring(w.graph, { content: id })
    if (nodes.length > 0) throw refuse('conflict', 'content_in_use', `Workflow "${w.name}" shows this content (node ${nodes[0]}); change it first`, { extra: { usedBy: [{ id: w.id, name: w.name }] } })
  }
  await deleteContent(db, site.id, id).run()
  changes.siteConfig(site)
}

export { allContent }
