/**
 * The content form's behaviour: its form builder, versions in other languages and weekly hours added and
 * removed in place, only the display trigger's own inputs shown, and the live preview. The preview turns
 * the form's values into content as saving would (content-values.ts) and makes it for one visitor as the
 * edge does (personalize.ts: the language's version, tokens filled with a sample contact's values or their
 * fallbacks), then the frame draws it with the SDK's own renderer.
 */
import { type ContentPayload, type StoredContent } from '../../../shared/content'
import { personalize } from '../../content/personalize'
import { type FieldInputs, type Values, contentInput, sentValues, versionCount } from '../content-values'
import { h, pageData } from './dom'
import { formBuilder } from './form-builder'
import { languages } from './languages'
import { weeklyHours } from './weekly-hours'

type Fields = Parameters<typeof personalize>[1]['fields']

interface SampleContact {
  name: string
  email: string | null
  fields: Fields
}

const form = document.getElementById('content-form') as HTMLFormElement
const frame = document.getElementById('preview') as HTMLIFrameElement
const previewAs = document.getElementById('preview-as') as HTMLSelectElement
const previewLang = document.getElementById('preview-lang') as HTMLSelectElement
const { inputs } = pageData<{ inputs: FieldInputs }>('content-data')
let samples: SampleContact[] = []

const DEFAULT_POSITION = { popup: 'center', bar: 'top', 'slide-in': 'bottom-right', inline: undefined } as const

/** The content of the form's values as the visitor chosen in "Preview as", reading the language chosen, would get it now. */
function payload(v: Values): ContentPayload {
  const { name: _name, ...spec } = contentInput(v, inputs)
  const content = { ...spec, id: 'preview', display: { on: 'immediately' } } as StoredContent
  // An inline block goes in the frame's stand-in for the page's element.
  if (content.format === 'inline') content.selector = '#slot'
  else content.position ??= DEFAULT_POSITION[content.format]
  const who = previewAs.value === '' ? undefined : samples[Number(previewAs.value)]
  return personalize(content, { language: previewLang.value || undefined, fields: who?.fields ?? {}, now: Date.now() })
}

/** The preview's languages: the default and each version's, the one chosen kept while it is there. */
function offerLanguages(v: Values): void {
  const chosen = previewLang.value
  const langs = Array.from({ length: versionCount(v) }, (_, i) => v[`v-${i}-lang`].trim()).filter(Boolean)
  const wanted = [['', `The default${v.defaultLanguage.trim() ? ` (${v.defaultLanguage.trim()})` : ''}`], ...langs.map((l) => [l, l])]
  const shown = [...previewLang.options].map((o) => [o.value, o.textContent])
  if (JSON.stringify(shown) === JSON.stringify(wanted)) return
  previewLang.replaceChildren(...wanted.map(([value, text]) => h('option', { value, text })))
  previewLang.value = langs.includes(chosen) ? chosen : ''
}

function send() {
  const v = sentValues(Object.fromEntries(new FormData(form)))
  offerLanguages(v)
  frame.contentWindow?.postMessage({ type: 'segue-preview', content: payload(v) }, location.origin)
}

/** Structural changes (a field or a version added, moved or removed) redraw the preview as typing does. */
const changed = () => form.dispatchEvent(new Event('change', { bubbles: true }))

/** The contacts "Preview as" offers, fetched once the page is up (a site's count of them is not needed). */
async function loadSamples(): Promise<void> {
  const res = await fetch(previewAs.dataset.contacts!, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
  if (!res.ok) return
  samples = ((await res.json()) as { contacts: SampleContact[] }).contacts
  samples.forEach((c, i) => previewAs.append(h('option', { value: String(i), text: c.email ? `${c.name} (${c.email})` : c.name })))
}

const trigger = form.elements.namedItem('on') as HTMLSelectElement
const showTriggerInputs = () => {
  for (const input of form.querySelectorAll<HTMLElement>('.trigger')) input.hidden = input.dataset.on !== trigger.value
}
trigger.addEventListener('change', showTriggerInputs)
showTriggerInputs()

const mainForm = form.querySelector<HTMLFieldSetElement>(':scope > fieldset.form-builder')!
const builder = formBuilder(mainForm, changed)
const versions = document.getElementById('languages')
if (versions) languages(versions, { builder, root: mainForm }, changed)
const schedule = document.getElementById('schedule')
if (schedule) weeklyHours(schedule)

form.addEventListener('input', send)
form.addEventListener('change', send)
previewAs.addEventListener('change', send)
previewLang.addEventListener('change', send)
frame.addEventListener('load', send)
void loadSamples()
