/**
 * Turning the service layer's refusals into words beside the fields they concern. The services throw
 * the API's errors ({ code, message }, messages led by the field path where one applies); the console
 * shows the same rule's words, so there is no second copy of any rule.
 */
import { HTTPException } from 'hono/http-exception'
import { type z } from 'zod'
import { describeIssues } from '../http/validate'
import { decodeCursor } from '../lib/cursor'

export interface FormErrors {
  /** A message for the top of the form, when no field is to blame. */
  message?: string
  fields: Record<string, string>
  /** A workflow refusal names its node. */
  node?: string
}

const FIELD_BY_CODE: Record<string, string> = {
  segment_name_taken: 'name',
  segment_exists: 'id',
  content_exists: 'id',
  workflow_exists: 'id',
  invalid_conditions: 'conditions',
  self_reference: 'conditions',
  unknown_segment: 'conditions',
  segment_cycle: 'conditions',
  email_taken: 'email',
  external_id_taken: 'externalId',
  invalid_field: 'fields',
  site_key_taken: 'key',
}

export async function errorsOf(err: unknown): Promise<FormErrors> {
  if (!(err instanceof HTTPException)) throw err
  const body = (await err.getResponse().clone().json().catch(() => ({}))) as { error?: { code?: string; message?: string; node?: string; rows?: Array<{ message: string }> } }
  const code = body.error?.code ?? ''
  const message = body.error?.rows?.[0]?.message ?? body.error?.message ?? err.message
  const fields: Record<string, string> = {}
  if (FIELD_BY_CODE[code]) fields[FIELD_BY_CODE[code]] = message
  else {
    for (const part of message.split('; ')) {
      const m = /^([A-Za-z]+)(?:[.[][^:]*)?: (.+)$/.exec(part)
      if (m) fields[m[1]] ??= m[2]
    }
  }
  const node = body.error?.node
  return { fields, node, message: Object.keys(fields).length > 0 && !node ? undefined : message }
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
