/**
 * A form in content: labelled inputs, the owner's consent checkbox, a submit button. The browser's own
 * constraint checks validate it (required, and the email shape the Worker accepts), with the browser's
 * own messages in the visitor's language. Each message is tied to its input (aria-describedby,
 * aria-invalid) and the first input at fault takes the focus, so a screen reader announces it. Once
 * valid, `send` gets the values and the thanks take the form's place.
 */
import { type ContentForm } from '../../shared/content'
import { type FieldValue } from '../../shared/events'
import { el } from './dom'

/** Who the visitor says they are: the form's email, and its other fields by key. */
export interface Submission {
  email?: string
  fields?: Record<string, FieldValue>
}

/** The Worker's shape of an email address: the browser's own check lets `ana@example` through. */
const EMAIL = '[^\\s@]+@[^\\s@]+\\.[^\\s@]+'
/** What browsers may fill in for the visitor (WCAG 1.3.5). */
const AUTOCOMPLETE: Record<string, string> = { email: 'email', firstName: 'given-name' }

/**
 * @example
 * box.appendChild(renderForm(c.form, (who, consent) => report(c, 'submitted', who, consent)))
 */
export function renderForm(f: ContentForm, send: (who: Submission | undefined, consent: boolean | undefined) => void): HTMLFormElement {
  const form = el('form')
  form.noValidate = true
  const inputs: HTMLInputElement[] = []
  const checks: Array<() => HTMLInputElement | undefined> = []

  const add = (text: string, type: string, required?: boolean) => {
    const input = el('input')
    const label = el('label', type == 'checkbox' ? 'k' : '')
    const span = el('span', '', text)
    const error = el('p', 'e')
    error.id = 'e' + inputs.length
    input.type = type
    input.required = !!required
    input.setAttribute('aria-describedby', error.id)
    if (type == 'checkbox') label.append(input, span)
    else label.append(span, input)
    form.append(label, error)
    const check = () => {
      const ok = input.checkValidity()
      error.textContent = ok ? '' : input.validationMessage
      if (ok) input.removeAttribute('aria-invalid')
      else input.setAttribute('aria-invalid', 'true')
      return ok ? undefined : input
    }
    // An input marked wrong is checked again as the visitor corrects it.
    input.addEventListener('input', () => input.hasAttribute('aria-invalid') && check())
    inputs.push(input)
    checks.push(check)
    return input
  }

  for (const field of f.fields) {
    const input = add(field.label, field.type, field.required)
    if (field.type == 'email') input.pattern = EMAIL
    if (AUTOCOMPLETE[field.key]) input.autocomplete = AUTOCOMPLETE[field.key] as AutoFill
  }
  const consent = f.consent && add(f.consent.text, 'checkbox', f.consent.required)
  form.appendChild(el('button', 's', f.submit))

  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const wrong = checks.map((check) => check()).find((input) => input)
    if (wrong) return wrong.focus()
    let who: Submission | undefined
    f.fields.forEach((field, i) => {
      const input = inputs[i]
      const value = field.type == 'checkbox' ? input.checked : field.type == 'number' ? input.valueAsNumber : input.value.trim()
      // An empty input, or a number the browser could not read, says nothing.
      if (value === '' || value !== value) return
      who = who || {}
      if (field.key == 'email') who.email = value as string
      else (who.fields = who.fields || {})[field.key] = value
    })
    send(who, consent ? consent.checked : undefined)
    const thanks = el('p', 't', f.thanks)
    thanks.setAttribute('role', 'status')
    thanks.tabIndex = -1
    form.replaceWith(thanks)
    thanks.focus()
  })
  return form
}
