/**
 * The content form's versions in other languages: the blank version the server ends them with becomes an
 * "Add a language" button, each version gets a Remove button, and a version's form shows only while it has
 * one of its own (ticking the box starts it as a copy of the default's, to translate). Versions are
 * renumbered in their order after each change, their forms' inputs with them.
 */
import { h } from './dom'
import { type FormBuilder, formBuilder, rename } from './form-builder'

/** The inputs of a form that are not its fields, by the end of their names. */
const FORM_TEXTS = ['consent', 'submit', 'thanks'] as const

export function languages(fieldset: HTMLElement, main: { builder: FormBuilder; root: HTMLElement }, changed: () => void): void {
  const blank = fieldset.querySelector<HTMLFieldSetElement>(':scope > fieldset.version[data-blank]')
  if (!blank) return
  blank.remove()
  const versions = () => [...fieldset.querySelectorAll<HTMLFieldSetElement>(':scope > fieldset.version')]
  const add = h('button', { type: 'button', class: 'secondary', id: 'language-add', text: 'Add a language' })

  const legend = (version: HTMLFieldSetElement) => {
    const lang = version.querySelector<HTMLInputElement>('input[name$="-lang"]')!.value.trim()
    version.querySelector('legend')!.textContent = `Version in ${lang || 'another language'}`
    version.querySelector<HTMLButtonElement>('button.remove')!.textContent = `Remove the version in ${lang || 'another language'}`
  }

  const renumber = () =>
    versions().forEach((version, i) => {
      rename(version, /\bv-\d+-/g, `v-${i}-`)
      version.dataset.version = String(i)
      version.querySelector<HTMLElement>('fieldset.form-builder')!.dataset.prefix = `v-${i}-form`
    })

  const enhance = (version: HTMLFieldSetElement) => {
    const nested = version.querySelector<HTMLFieldSetElement>('fieldset.form-builder')!
    const builder = formBuilder(nested, changed)
    const own = version.querySelector<HTMLInputElement>('input[data-own-form]')!
    nested.hidden = !own.checked
    own.addEventListener('change', () => {
      nested.hidden = !own.checked
      if (own.checked && builder.fields().length === 0) copyForm(main, { builder, root: nested })
      changed()
    })
    const remove = h('button', { type: 'button', class: 'link remove' })
    remove.addEventListener('click', () => {
      version.remove()
      renumber()
      add.focus()
      changed()
    })
    version.append(remove)
    version.querySelector('input[name$="-lang"]')!.addEventListener('input', () => legend(version))
    legend(version)
  }

  versions().forEach(enhance)
  add.addEventListener('click', () => {
    const version = blank.cloneNode(true) as HTMLFieldSetElement
    delete version.dataset.blank
    add.before(version)
    renumber()
    enhance(version)
    version.querySelector('input')?.focus()
    changed()
  })
  fieldset.append(add)
}

/** A version's form starts as the default's: the same fields, labels and texts, to translate. */
function copyForm(from: { builder: FormBuilder; root: HTMLElement }, to: { builder: FormBuilder; root: HTMLElement }): void {
  for (const field of from.builder.fields()) if (field.key) to.builder.add(field)
  for (const name of FORM_TEXTS) {
    const source = from.root.querySelector<HTMLInputElement>(`input[name$="-${name}"]`)
    const target = to.root.querySelector<HTMLInputElement>(`input[name$="-${name}"]`)
    if (source && target) target.value = source.value
  }
  const required = (root: HTMLElement) => root.querySelector<HTMLInputElement>('input[name$="-consentRequired"]')
  required(to.root)!.checked = required(from.root)?.checked ?? false
}
