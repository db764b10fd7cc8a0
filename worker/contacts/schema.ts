/**
 * The door for contacts: zod schemas for a contact and for a contact's imported activities, and the check
 * of field values against the fields a site has (system ones and those it declares).
 */
import { LANGUAGE_TAG } from '../events/schema'
import { z } from 'zod'
import { type FieldValue } from '../../shared/events'
import { isDateOnly } from '../conditions/dates'
import { type FieldCatalog, NEWSLETTER_STATUSES, SYSTEM_FIELDS, isSystemField } from '../conditions/fields'
import { eventSchema } from '../events/schema'
import { type Issue } from '../http/errors'

export const CONTACT_ID = /^[A-Za-z0-9_-]{1,64}$/
export const MAX_BATCH = 1000
const MAX_TEXT = 1000

export const contactId = z.string().regex(CONTACT_ID, 'must be 1–64 characters of A-Z, a-z, 0-9, _ and -')

export const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address')

const fieldValue = z.union([z.string().max(MAX_TEXT), z.number().finite(), z.boolean(), z.null()])

/** One contact to create or update. `null` clears a value; an empty string does too. */
export const contactInput = z.strictObject({
  id: contactId.optional(),
  email: z.union([email, z.literal('').transform(() => null), z.null()]).optional(),
  externalId: z.union([z.string().trim().min(1).max(128), z.literal('').transform(() => null), z.null()]).optional(),
  fields: z.record(z.string().max(64), fieldValue).optional(),
})
export type ContactInput = z.output<typeof contactInput>

export const contactPatch = contactInput.omit({ id: true })

export const eventsImport = z.strictObject({
  events: z.array(z.unknown()).min(1, 'send at least one event'),
})

export { eventSchema }

/**
 * A CSV import as its uploader starts it: the file's name, its columns in header order with the field
 * each goes to (null skips one), the static segment its contacts join, and how many rows will follow.
 * That each field exists and is written once, and the segment, are checked against the site (import.ts).
 */
export const importCreate = z.strictObject({
  name: z.string().trim().min(1).max(200).default('contacts.csv'),
  columns: z
    .array(z.strictObject({ name: z.string().max(200), field: z.string().max(64).nullable() }))
    .min(1, 'name at least one column')
    .max(300),
  segment: z.string().max(64).optional(),
  rows: z.number().int().min(1, 'an import holds at least one row'),
})
export type ImportCreate = z.output<typeof importCreate>

/**
 * Checks field values against the site's fields. Returns the normalised values (empty strings become
 * null, which clears) and the issues found, each with its path (`fields.birthDate`).
 */
export function checkFields(
  catalog: FieldCatalog,
  fields: Record<string, FieldValue | null>,
): { values: Record<string, FieldValue | null>; issues: Issue[] } {
  const values: Record<string, FieldValue | null> = {}
  const issues: Issue[] = []
  const problem = (key: string, message: string) => issues.push({ path: `fields.${key}`, message })
  for (const [key, raw] of Object.entries(fields)) {
    const info = catalog.get(key)
    const value = raw === '' ? null : raw
    if (!info) {
      problem(key, "unknown field; declare it in the site's fields first")
      continue
    }
    if (key === 'email' || key === 'externalId') {
      problem(key, `send ${key} beside fields, not inside them`)
      continue
    }
    if (isSystemField(key) && 'readOnly' in SYSTEM_FIELDS[key]) {
      problem(key, 'set by Segue, not writable')
      continue
    }
    if (value !== null) {
      const wrong = typeProblem(info.type, key, value)
      if (wrong) {
        problem(key, wrong)
        continue
      }
    }
    values[key] = value
  }
  return { values, issues }
}

function typeProblem(type: string, key: string, value: FieldValue): string | undefined {
  if (key === 'newsletter' && !(NEWSLETTER_STATUSES as readonly unknown[]).includes(value)) {
    return `must be one of ${NEWSLETTER_STATUSES.join(', ')}`
  }
  if (key === 'language' && !(typeof value === 'string' && LANGUAGE_TAG.test(value))) return 'must be a language tag such as en or pt-BR'
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'must be text'
    case 'number':
      return typeof value === 'number' ? undefined : 'must be a number'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false'
    case 'date':
      return isDateOnly(value) ? undefined : 'must be a date written YYYY-MM-DD'
    default:
      return 'cannot be set'
  }
}
