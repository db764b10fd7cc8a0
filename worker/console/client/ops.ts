/** Operators in words, and the operators each field type can use (one list, shared with the server). */
import { type FieldType } from '../../conditions/fields'
import { type FieldOp } from '../../conditions/types'

export { type FieldType, OPS_BY_TYPE } from '../../conditions/fields'

// Every operator has its words; indexed by any string too, as the workflow editor reads its nodes from loose JSON.
export const OP_LABELS: Record<string, string> = {
  eq: 'is', ne: 'is not', in: 'is one of', notIn: 'is none of', contains: 'contains', notContains: 'does not contain',
  startsWith: 'starts with', endsWith: 'ends with', gt: 'is greater than', gte: 'is at least', lt: 'is less than',
  lte: 'is at most', between: 'is between', exists: 'is set', notExists: 'is not set', before: 'is before',
  after: 'is after', withinLast: 'is within the last', olderThan: 'is longer ago than',
} satisfies Record<FieldOp, string>

/** Reads a typed value from a text input. */
export function typed(type: FieldType | 'text', raw: string): unknown {
  if (type === 'number') return raw.trim() === '' ? undefined : Number(raw)
  if (type === 'boolean') return raw === 'true'
  return raw
}
