/**
 * Turning the services' refusals into words beside the fields they concern. A refusal names the field
 * path at fault and its issues; the console's inputs carry the API's field names (a contact's fields by
 * their key alone), so each issue finds its input without a second copy of any rule.
 */
import { type z } from 'zod'
import { type Issue, Refusal } from '../http/errors'
import { issuesOf } from '../http/validate'
import { decodeCursor } from '../lib/cursor'

export interface FormErrors {
  /** A message for the top of the form, when no field is to blame. */
  message?: string
  fields: Record<string, string>
  /** A workflow refusal names its node. */
  node?: string
}

/**
 * The console input an API path belongs to — its first name, or for a contact's field, the field's — and
 * the rest of the path, which says where inside the input (`all[1]` of a condition tree).
 */
function inputOf(path: string): [input: string, rest: string] {
  const m = /^fields\.([^.[]+)/.exec(path) ?? /^([^.[]+)/.exec(path)
  return m ? [m[1], path.slice(m[0].length).replace(/^\./, '')] : [path, '']
}

/**
 * Issues beside the inputs they concern, every one of them, in words with where inside the input; the
 * issues of inputs the form does not show (when it says which it shows) are left for the top of the form.
 */
function besideInputs(issues: readonly Issue[], shown?: readonly string[]): { fields: Record<string, string>; elsewhere: Issue[] } {
  const fields: Record<string, string> = {}
  const elsewhere: Issue[] = []
  for (const issue of issues) {
    const [input, rest] = inputOf(issue.path)
    if (!issue.path || (shown && !shown.includes(input))) {
      elsewhere.push(issue)
      continue
    }
    const words = rest ? `${rest}: ${issue.message}` : issue.message
    fields[input] = fields[input] ? `${fields[input]}; ${words}` : words
  }
  return { fields, elsewhere }
}

/**
 * A refusal as form errors; anything else is not the form's business and is thrown on. With `shown`, the
 * inputs the form has, a refusal about any other goes to the top of the form.
 */
export function errorsOf(err: unknown, shown?: readonly string[]): FormErrors {
  if (!(err instanceof Refusal)) throw err
  const { field, issues, extra } = err.detail
  // A refusal without issues is about its field as a whole, in its own words.
  const { fields, elsewhere } = besideInputs(issues?.length ? issues : field ? [{ path: inputOf(field)[0], message: err.message }] : [], shown)
  const node = typeof extra?.node === 'string' ? extra.node : undefined
  return { fields, node, message: Object.keys(fields).length > 0 && elsewhere.length === 0 && !node ? undefined : err.message }
}

/** The words of a refusal, for a page that shows it whole; anything else is thrown on. */
export function messageOf(err: unknown): string {
  if (!(err instanceof Refusal)) throw err
  return err.message
}

/** A form field as a string ('' when absent). */
export const text = (form: Record<string, unknown>, name: string) => {
  const v = form[name]
  return typeof v === 'string' ? v : ''
}

/** The fields of a form, trimmed, without empty ones and without the CSRF token. */
export function filled(form: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(form)) if (k !== '_csrf' && typeof v === 'string' && v.trim() !== '') out[k] = v.trim()
  return out
}

/** A pagination cursor from a console URL; a mangled one starts from the first page. */
export function cursorOf(raw: string | undefined, arity: number): (string | number)[] | undefined {
  try {
    return decodeCursor(raw, arity)
  } catch {
    return undefined
  }
}

/**
 * A form's own validation refusals (zod issues) beside the fields they concern; a refusal about a field
 * the form does not show goes to the top of the form.
 */
export function fieldErrorsOf(issues: readonly z.core.$ZodIssue[], shown: readonly string[]): FormErrors {
  const { fields, elsewhere } = besideInputs(issuesOf(issues).issues, shown)
  return { fields, message: elsewhere.length > 0 ? elsewhere.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ') : undefined }
}
