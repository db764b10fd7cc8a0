/**
 * The contact fields conditions can test: Segue's system fields plus the custom fields a site declares.
 */

import { type FieldOp } from './types'

export type FieldType = 'string' | 'number' | 'boolean' | 'date' | 'timestamp'

/**
 * The operators that can match a field of each type, the most useful first (the console offers them in
 * this order). Any other makes a clause that matches nothing, and saving refuses it.
 */
export const OPS_BY_TYPE: Record<FieldType, readonly FieldOp[]> = {
  string: ['eq', 'ne', 'in', 'notIn', 'contains', 'notContains', 'startsWith', 'endsWith', 'exists', 'notExists'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'notIn', 'exists', 'notExists'],
  boolean: ['eq', 'ne', 'exists', 'notExists'],
  date: ['between', 'before', 'after', 'withinLast', 'olderThan', 'eq', 'ne', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'exists', 'notExists'],
  timestamp: ['withinLast', 'olderThan', 'before', 'after', 'between', 'gt', 'gte', 'lt', 'lte', 'eq', 'ne', 'exists', 'notExists'],
}
export type CustomFieldType = Exclude<FieldType, 'timestamp'>

export interface CustomFieldDefinition {
  key: string
  type: CustomFieldType
  label?: string
}

export interface SystemField {
  type: FieldType
  label: string
  /** Column in the contacts table. */
  column: string
  /** Set only by Segue (timestamps), never by an admin or a browser. */
  readOnly?: boolean
}

export const SYSTEM_FIELDS = {
  email: { type: 'string', label: 'email', column: 'email' },
  externalId: { type: 'string', label: 'external id', column: 'external_id' },
  firstName: { type: 'string', label: 'first name', column: 'first_name' },
  lastName: { type: 'string', label: 'last name', column: 'last_name' },
  birthDate: { type: 'date', label: 'birth date', column: 'birth_date' },
  gender: { type: 'string', label: 'gender', column: 'gender' },
  country: { type: 'string', label: 'country', column: 'country' },
  city: { type: 'string', label: 'city', column: 'city' },
  phone: { type: 'string', label: 'phone', column: 'phone' },
  newsletter: { type: 'string', label: 'newsletter status', column: 'newsletter' },
  language: { type: 'string', label: 'language', column: 'language' },
  createdAt: { type: 'timestamp', label: 'created', column: 'created_at', readOnly: true },
  lastSeenAt: { type: 'timestamp', label: 'last seen', column: 'last_seen_at', readOnly: true },
} as const satisfies Record<string, SystemField>

export type SystemFieldKey = keyof typeof SYSTEM_FIELDS

export const NEWSLETTER_STATUSES = ['subscribed', 'unsubscribed', 'pending'] as const

export const FIELD_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/

export function isSystemField(key: string): key is SystemFieldKey {
  return Object.hasOwn(SYSTEM_FIELDS, key)
}

/** Where a field lives and what type it holds; undefined for a field the site does not know. */
export type FieldInfo =
  | { kind: 'system'; key: SystemFieldKey; type: FieldType; column: string; label: string }
  | { kind: 'custom'; key: string; type: CustomFieldType; label: string }

/** Looks fields up by key, for one site. */
export class FieldCatalog {
  private readonly custom = new Map<string, CustomFieldDefinition>()

  constructor(definitions: readonly CustomFieldDefinition[] = []) {
    for (const d of definitions) if (!isSystemField(d.key) && FIELD_KEY.test(d.key)) this.custom.set(d.key, d)
  }

  get(key: string): FieldInfo | undefined {
    if (isSystemField(key)) {
      const f: SystemField = SYSTEM_FIELDS[key]
      return { kind: 'system', key, type: f.type, column: f.column, label: f.label }
    }
    const d = this.custom.get(key)
    return d && { kind: 'custom', key, type: d.type, label: d.label ?? d.key }
  }

  customDefinitions(): CustomFieldDefinition[] {
    return [...this.custom.values()]
  }
}
