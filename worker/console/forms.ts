/**
 * Turning the services' refusals into words beside the fields they concern. A refusal names the field
 * path at fault and its issues; the console's inputs carry the API's field names (a contact's fields by
 * their key alone), so each issue finds its input without a second copy of any rule.
 */
import { type z } from 'zod'
import { Refusal } from '../http/errors'
import { describeIssues } from '../http/validate'
import { decodeCursor } from '../lib/cursor'

export interface FormErrors {
  /** A message for the top of the form, when no field is to blame. */
  message?: string
  fields: Record<string, string>
  /** A workflow refusal names its node. */
  node?: string
}

/** The console input an API path belongs to: its first name, or for a contact's field, the field's. */
const inputOf = (path: string) => (/^fields\.([^.[]+)/.exec(path)?.[1] ?? /^[^.[]+/.exec(path)?.[0] ?? path)

/** A refusal as form errors; anything else is not the form's business and is thrown on. */
export function errorsOf(err: unknown): FormErrors {
  if (!(err instanceof Refusal)) throw err
  const { field, issues, extra } = err.detail
  const fields: Record<string, string> = {}
  for (const issue of issues ?? []) if (issue.path) fields[inputOf(issue.path)] ??= issue.message
  if (field && !issues?.length) fields[inputOf(field)] = err.message
  const node = typeof extra?.node === 'string' ? extra.node : undefined
  return { fields, node, message: Object.keys(fields).length > 0 && !node ? undefined : err.message }
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
  const fields: Record<string, string> = {}
  const elsewhere: z.core.$ZodIssue[] = []
  for (const i of issues) {
    const key = String(i.path[0] ?? '')
    if (!shown.includes(key)) {
      elsewhere.push(i)
      continue
    }
    const rest = i.path.slice(1).map((x) => (typeof x === 'number' ? `[${x}]` : `.${String(x)}`)).join('')
    fields[key] ??= rest ? `${rest.replace(/^\./, '')}: ${i.message}` : i.message
  }
  return { fields, message: elsewhere.length > 0 ? describeIssues(elsewhere) : undefined }
}
