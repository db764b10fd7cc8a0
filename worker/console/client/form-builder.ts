/**
 * The content form's form builder: the blank field the server ends a form's fields with (where a browser
 * without this script types a new one) becomes an "Add a field" button, and each field gets Move up, Move
 * down and Remove buttons. Fields are renumbered in their order after each change, so the server reads
 * them in the order they are shown.
 */
import { h } from './dom'

/** A form's most fields (the API's bound). */
const MAX_FIELDS = 10
const NAMED = ['id', 'for', 'name', 'aria-describedby']

/** Renames what carries a number in a part and everything inside it: `form-field-3-` to `form-field-0-`. */
export function rename(root: Element, from: RegExp, to: string): void {
  for (const el of [root, ...root.querySelectorAll('*')]) {
    for (const attr of NAMED) {
      const value = el.getAttribute(attr)
      if (value) el.setAttribute(attr, value.replace(from, to))
    }
  }
}

export interface FieldValues {
  key: string
  label: string
  required: boolean
}

export interface FormBuilder {
  /** The fields as they stand, in order. */
  fields(): FieldValues[]
  /** Adds a field at the end, filled in. */
  add(values: FieldValues): void
}

/**
 * @example
 * formBuilder(document.querySelector('fieldset.form-builder')!, () => form.dispatchEvent(new Event('change')))
 */
export function formBuilder(builder: HTMLFieldSetElement, changed: () => void): FormBuilder {
  const list = builder.querySelector<HTMLElement>(':scope > .form-fields')!
  const blank = list.querySelector<HTMLFieldSetElement>(':scope > fieldset.form-field[data-blank]')!
  blank.remove()
  const rows = () => [...list.querySelectorAll<HTMLFieldSetElement>(':scope > fieldset.form-field')]
  const inputs = (row: HTMLFieldSetElement) => ({
    key: row.querySelector<HTMLSelectElement>('select')!,
    label: row.querySelector<HTMLInputElement>('input[name$="-label"]')!,
    required: row.querySelector<HTMLInputElement>('input[name$="-required"]')!,
  })
  const add = h('button', { type: 'button', class: 'secondary', text: 'Add a field' })

  const renumber = () => {
    const all = rows()
    all.forEach((row, i) => {
      rename(row, /form-field-\d+-/g, `form-field-${i}-`)
      row.dataset.field = String(i)
      row.querySelector('legend')!.textContent = `Field ${i + 1}`
      const [up, down, remove] = row.querySelectorAll<HTMLButtonElement>('.actions button')
      up.setAttribute('aria-label', `Move field ${i + 1} up`)
      down.setAttribute('aria-label', `Move field ${i + 1} down`)
      remove.textContent = `Remove field ${i + 1}`
      up.disabled = i === 0
      down.disabled = i === all.length - 1
    })
    add.disabled = all.length >= MAX_FIELDS
  }

  const move = (row: HTMLFieldSetElement, by: -1 | 1, pressed: HTMLButtonElement) => {
    const other = by < 0 ? row.previousElementSibling : row.nextElementSibling
    if (!other) return
    if (by < 0) other.before(row)
    else other.after(row)
    renumber()
    // The focus stays on the button pressed, or on its twin once the field reaches an end.
    const [up, down] = row.querySelectorAll<HTMLButtonElement>('.actions button')
    ;(pressed.disabled ? (pressed === up ? down : up) : pressed).focus()
    changed()
  }

  const enhance = (row: HTMLFieldSetElement) => {
    const up = h('button', { type: 'button', class: 'secondary', text: 'Move up' })
    const down = h('button', { type: 'button', class: 'secondary', text: 'Move down' })
    const remove = h('button', { type: 'button', class: 'link' })
    up.addEventListener('click', () => move(row, -1, up))
    down.addEventListener('click', () => move(row, 1, down))
    remove.addEventListener('click', () => {
      row.remove()
      renumber()
      add.focus()
      changed()
    })
    // The label follows the field chosen until the owner writes one of their own.
    const { key, label } = inputs(row)
    const named = () => key.selectedOptions[0]?.dataset.label ?? ''
    let given = named()
    key.addEventListener('change', () => {
      if (label.value.trim() === '' || label.value === given) label.value = given = named()
    })
    row.append(h('div', { class: 'actions' }, up, down, remove))
  }

  const append = (): HTMLFieldSetElement => {
    const row = blank.cloneNode(true) as HTMLFieldSetElement
    delete row.dataset.blank
    row.querySelector<HTMLSelectElement>('select')!.options[0].textContent = 'Nothing (left out)'
    enhance(row)
    list.append(row)
    renumber()
    return row
  }

  rows().forEach(enhance)
  add.addEventListener('click', () => {
    append().querySelector('select')!.focus()
    changed()
  })
  list.after(add)
  renumber()

  return {
    fields: () =>
      rows().map((row) => {
        const i = inputs(row)
        return { key: i.key.value, label: i.label.value, required: i.required.checked }
      }),
    add: (values) => {
      const i = inputs(append())
      i.key.value = values.key
      i.label.value = values.label
      i.required.checked = values.required
    },
  }
}
