/** Operators the builders offer, by field type, in words. */
export type FieldType = 'string' | 'number' | 'boolean' | 'date' | 'timestamp'

export const OP_LABELS: Record<string, string> = {
  eq: 'is', ne: 'is not', in: 'is one of', notIn: 'is none of', contains: 'contains', notContains: 'does not contain',
  startsWith: 'starts with', endsWith: 'ends with', gt: 'is greater than', gte: 'is at least', lt: 'is less than',
  lte: 'is at most', between: 'is between', exists: 'is set', notExists: 'is not set', before: 'is before',
  after: 'is after', withinLast: 'is within the last', olderThan: 'is longer ago than',
}

export const OPS_BY_TYPE: Record<FieldType, string[]> = {
  string: ['eq', 'ne', 'in', 'notIn', 'contains', 'notContains', 'startsWith', 'endsWith', 'exists', 'notExists'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'notIn', 'exists', 'notExists'],
  boolean: ['eq', 'ne', 'exists', 'notExists'],
  date: ['between', 'before', 'after', 'eq', 'ne', 'withinLast', 'olderThan', 'exists', 'notExists'],
  timestamp: ['withinLast', 'olderThan', 'before', 'after', 'between', 'exists', 'notExists'],
}

/** Reads a typed value from a text input. */
export function typed(type: FieldType | 'text', raw: string): unknown {
  if (type === 'number') return raw.trim() === '' ? undefined : Number(raw)
  if (type === 'boolean') return raw === 'true'
  return raw
}
