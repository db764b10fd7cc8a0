/**
 * Turns a condition tree into plain tests that both the in-memory evaluator (evaluate.ts) and the SQL
 * compiler (sql.ts) consume. Every reading of an operand happens here, once, so the two cannot disagree
 * on what a clause means; a clause whose operand does not fit becomes `never` instead of throwing.
 */
import { parseInstant } from './dates'
import { parseDuration } from './durations'
import { type FieldCatalog, type FieldInfo, type FieldType } from './fields'
import {
  type ActivityClause, type ActivityType, type Condition, EVENT_TEXT_PROPS, type EventPredicate, type EventProp, type FieldClause,
  type FieldOp, MEASURES, type MeasureName, type SegmentClause, groupChildren, groupKind, isActivityClause, isDateMeasure,
  isFieldClause, isGroup, isSegmentClause,
} from './types'

/** A bound of a range: an absolute value, or a time that many milliseconds before "now". */
export type Bound = { at: number } | { ago: number }

/** How a value is read before it is tested. `instant` is epoch ms, `any` is any present value. */
export type ValueKind = 'text' | 'number' | 'boolean' | 'instant' | 'any'

export type Test =
  | { t: 'never' }
  | { t: 'exists' }
  | { t: 'missing' }
  /** Text equal to (mode eq), containing, starting or ending with one of `values`; ASCII case-insensitive. */
  | { t: 'text'; mode: 'eq' | 'contains' | 'starts' | 'ends'; values: string[]; negate: boolean }
  | { t: 'oneOf'; values: number[]; negate: boolean }
  | { t: 'range'; lo?: Bound; loIncl: boolean; hi?: Bound; hiIncl: boolean }
  | { t: 'bool'; value: boolean; negate: boolean }

const PROPS_KEY = /^props\.[A-Za-z][A-Za-z0-9_]{0,63}$/

/** Purchase amounts are kept in thousandths so that sums and averages are exact everywhere. */
export const AMOUNT_SCALE = 1000

export interface PreparedPredicate {
  prop: EventProp
  kind: ValueKind
  test: Test
}

export interface PreparedActivity {
  type: ActivityType
  name?: string
  where: PreparedPredicate[]
  windowMs?: number
  measure: MeasureName
  test: Test
}

export type PreparedNode =
  | { node: 'group'; kind: 'all' | 'any' | 'none'; children: PreparedNode[] }
  | { node: 'field'; clause: FieldClause; field?: FieldInfo; kind: ValueKind; test: Test }
  | { node: 'activity'; clause: ActivityClause; activity: PreparedActivity }
  | { node: 'segment'; clause: SegmentClause; member: boolean }
  | { node: 'never'; clause: unknown }

const NEVER: Test = { t: 'never' }

/**
 * Prepares a condition tree for a site's fields.
 *
 * @example
 * const p = prepare({ all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }, catalog)
 */
export function prepare(condition: Condition, catalog: FieldCatalog): PreparedNode {
  if (isGroup(condition)) {
    const children = groupChildren(condition)
    return {
      node: 'group',
      kind: groupKind(condition),
      children: Array.isArray(children) ? children.map((c) => prepare(c, catalog)) : [],
    }
  }
  if (isFieldClause(condition)) {
    const field = catalog.get(condition.field)
    if (!field) return { node: 'field', clause: condition, kind: 'any', test: missingOnly(condition.op) }
    const kind = kindOfField(field.type)
    return { node: 'field', clause: condition, field, kind, test: prepareTest(kind, condition.op, condition.value, 1) }
  }
  if (isActivityClause(condition)) return { node: 'activity', clause: condition, activity: prepareActivity(condition) }
  if (isSegmentClause(condition)) {
    return { node: 'segment', clause: condition, member: condition.op !== 'notIn' }
  }
  return { node: 'never', clause: condition }
}

function missingOnly(op: FieldOp): Test {
  return op === 'notExists' ? { t: 'missing' } : NEVER
}

export function kindOfField(type: FieldType): ValueKind {
  switch (type) {
    case 'string':
      return 'text'
    case 'number':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'date':
    case 'timestamp':
      return 'instant'
  }
}

/** Reads an operand as a value of `kind`, in the units the value is stored in. */
function operand(kind: ValueKind, value: unknown, scale: number): number | string | boolean | undefined {
  switch (kind) {
    case 'text':
      // SQLite's LIKE and length() stop at a NUL character; Segue's door refuses NUL in any text it
      // stores, and an operand holding one can match nothing.
      return typeof value === 'string' && !value.includes('\u0000') ? asciiLower(value) : undefined
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? (scale === 1 ? value : Math.round(value * scale)) : undefined
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined
    case 'instant':
      return parseInstant(value)
    case 'any':
      return undefined
  }
}

function operands<T>(kind: ValueKind, value: unknown, scale: number): T[] | undefined {
  if (!Array.isArray(value)) return undefined
  const out: T[] = []
  for (const v of value) {
    const o = operand(kind, v, scale)
    if (o === undefined) return undefined
    out.push(o as T)
  }
  return out
}

/**
 * The test for `op` with `value` on values of `kind`. `scale` converts numeric operands to stored units.
 */
export function prepareTest(kind: ValueKind, op: string, value: unknown, scale: number): Test {
  if (op === 'exists') return { t: 'exists' }
  if (op === 'notExists') return { t: 'missing' }
  if (op === 'withinLast' || op === 'olderThan') {
    const ms = parseDuration(value)
    if (kind !== 'instant' || ms === undefined) return NEVER
    return op === 'withinLast'
      ? { t: 'range', lo: { ago: ms }, loIncl: true, hi: { ago: 0 }, hiIncl: true }
      : { t: 'range', hi: { ago: ms }, hiIncl: false, loIncl: false }
  }
  if (kind === 'text') return textTest(op, value)
  if (kind === 'boolean') {
    const b = operand(kind, value, scale)
    if (typeof b !== 'boolean' || (op !== 'eq' && op !== 'ne')) return NEVER
    return { t: 'bool', value: b, negate: op === 'ne' }
  }
  if (kind === 'number' || kind === 'instant') return orderedTest(kind, op, value, scale)
  return NEVER
}

function textTest(op: string, value: unknown): Test {
  const modes = { eq: 'eq', ne: 'eq', contains: 'contains', notContains: 'contains', startsWith: 'starts', endsWith: 'ends' } as const
  if (op === 'in' || op === 'notIn') {
    const values = operands<string>('text', value, 1)
    return values ? { t: 'text', mode: 'eq', values, negate: op === 'notIn' } : NEVER
  }
  const mode = Object.hasOwn(modes, op) ? modes[op as keyof typeof modes] : undefined
  const v = operand('text', value, 1)
  if (!mode || typeof v !== 'string') return NEVER
  return { t: 'text', mode, values: [v], negate: op === 'ne' || op === 'notContains' }
}

function orderedTest(kind: 'number' | 'instant', op: string, value: unknown, scale: number): Test {
  if (op === 'in' || op === 'notIn') {
    const values = operands<number>(kind, value, scale)
    return values ? { t: 'oneOf', values, negate: op === 'notIn' } : NEVER
  }
  if (op === 'between') {
    if (!Array.isArray(value) || value.length !== 2) return NEVER
    const lo = operand(kind, value[0], scale)
    const hi = operand(kind, value[1], scale)
    if (typeof lo !== 'number' || typeof hi !== 'number') return NEVER
    return { t: 'range', lo: { at: lo }, loIncl: true, hi: { at: hi }, hiIncl: true }
  }
  const v = operand(kind, value, scale)
  if (typeof v !== 'number') return NEVER
  switch (op) {
    case 'eq':
    case 'ne':
      return { t: 'oneOf', values: [v], negate: op === 'ne' }
    case 'gt':
    case 'after':
      return { t: 'range', lo: { at: v }, loIncl: false, hiIncl: false }
    case 'gte':
      return { t: 'range', lo: { at: v }, loIncl: true, hiIncl: false }
    case 'lt':
    case 'before':
      return { t: 'range', hi: { at: v }, hiIncl: false, loIncl: false }
    case 'lte':
      return { t: 'range', hi: { at: v }, hiIncl: true, loIncl: false }
    default:
      return NEVER
  }
}

function prepareActivity(clause: ActivityClause): PreparedActivity {
  const base = { type: clause.activity, name: typeof clause.name === 'string' ? clause.name : undefined }
  const never: PreparedActivity = { ...base, where: [], measure: 'count', test: NEVER }
  let windowMs: number | undefined
  if (clause.within !== undefined) {
    windowMs = parseDuration(clause.within)
    if (windowMs === undefined) return never
  }
  const where: PreparedPredicate[] = []
  const predicates = clause.where === undefined ? [] : Array.isArray(clause.where) ? clause.where : [clause.where]
  for (const p of predicates) where.push(preparePredicate(p))

  const measured = MEASURES.filter((m) => clause[m] !== undefined)
  if (measured.length > 1) return never
  const measure: MeasureName = measured[0] ?? 'count'
  const spec = clause[measure]
  let test: Test
  if (!spec) test = { t: 'range', lo: { at: 1 }, loIncl: true, hiIncl: false }
  else if (typeof spec !== 'object' || spec === null) test = NEVER
  else if (isDateMeasure(measure)) {
    test = spec.op === 'eq' || spec.op === 'ne' || (spec.op as string) === 'in'
      ? NEVER
      : prepareTest('instant', spec.op, spec.value, 1)
  } else {
    test = (spec.op as string) === 'in' || (spec.op as string) === 'notIn'
      ? NEVER
      : prepareTest('number', spec.op, spec.value, measure === 'count' ? 1 : AMOUNT_SCALE)
    if (test.t === 'exists' || test.t === 'missing') test = NEVER
  }
  return { ...base, where, windowMs, measure, test }
}

function preparePredicate(p: EventPredicate): PreparedPredicate {
  const field = typeof p?.field === 'string' ? p.field : ''
  if (field === 'amount') return { prop: 'amount', kind: 'number', test: prepareTest('number', p.op, p.value, AMOUNT_SCALE) }
  if ((EVENT_TEXT_PROPS as readonly string[]).includes(field)) {
    return { prop: field as EventProp, kind: 'text', test: prepareTest('text', p.op, p.value, 1) }
  }
  if (PROPS_KEY.test(field)) {
    const kind = propKind(p.op, p.value)
    return { prop: field as EventProp, kind, test: kind === 'any' ? missingOrExists(p.op) : prepareTest(kind, p.op, p.value, 1) }
  }
  return { prop: 'url', kind: 'any', test: NEVER }
}

/** Custom properties carry no declared type: the operand says which values can match. */
function propKind(op: FieldOp, value: unknown): ValueKind {
  if (op === 'exists' || op === 'notExists') return 'any'
  const sample = Array.isArray(value) ? value[0] : value
  if (typeof sample === 'string') return 'text'
  if (typeof sample === 'number') return 'number'
  if (typeof sample === 'boolean') return 'boolean'
  return 'any'
}

function missingOrExists(op: FieldOp): Test {
  return op === 'exists' ? { t: 'exists' } : op === 'notExists' ? { t: 'missing' } : NEVER
}

/** Lower-cases A–Z only, as SQLite's lower() and LIKE do, so both sides fold case the same way. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}
