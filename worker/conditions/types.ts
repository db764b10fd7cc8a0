/**
 * The condition tree of a dynamic segment, as stored and as sent over the admin API.
 *
 * @example
 * const millennials: Condition = {
 *   all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }],
 * }
 */

export const FIELD_OPS = [
  'eq', 'ne', 'in', 'notIn',
  'contains', 'notContains', 'startsWith', 'endsWith',
  'gt', 'gte', 'lt', 'lte', 'between',
  'exists', 'notExists',
  'before', 'after', 'withinLast', 'olderThan',
] as const
export type FieldOp = (typeof FIELD_OPS)[number]

/** Operators whose operand is a duration (`30d`, `12h`), counted back from now. */
export const DURATION_OPS = ['withinLast', 'olderThan'] as const satisfies readonly FieldOp[]
export type DurationOp = (typeof DURATION_OPS)[number]

export function isDurationOp(op: FieldOp): op is DurationOp {
  return (DURATION_OPS as readonly FieldOp[]).includes(op)
}

// The operator lists of measures go the most useful first: the console offers them in this order.
export const MEASURE_OPS = ['gte', 'gt', 'eq', 'ne', 'lte', 'lt', 'between'] as const satisfies readonly FieldOp[]
export type MeasureOp = (typeof MEASURE_OPS)[number]

export const DATE_MEASURE_OPS = ['withinLast', 'olderThan', 'before', 'after', 'between'] as const satisfies readonly FieldOp[]
export type DateMeasureOp = (typeof DATE_MEASURE_OPS)[number]

export const ACTIVITY_TYPES = ['page_visit', 'purchase', 'identify', 'custom', 'content'] as const
export type ActivityType = (typeof ACTIVITY_TYPES)[number]

/** What an activity clause can measure, one at most; without a measure it means "did it at least once". */
export const MEASURES = ['count', 'sum', 'avg', 'first', 'last'] as const satisfies ReadonlyArray<keyof ActivityClause>
export type MeasureName = (typeof MEASURES)[number]

/** The measures of purchase amounts: no other activity has one. */
export const AMOUNT_MEASURES = ['sum', 'avg'] as const satisfies readonly MeasureName[]

/** The measures that are times (a `DateMeasure`); the others are numbers (a `Measure`). */
export const DATE_MEASURES = ['first', 'last'] as const satisfies readonly MeasureName[]
export type DateMeasureName = (typeof DATE_MEASURES)[number]

export function isDateMeasure(m: MeasureName): m is DateMeasureName {
  return (DATE_MEASURES as readonly MeasureName[]).includes(m)
}

/** An event's own properties a `where` can test, besides the `amount` of a purchase and custom `props.*`. */
export const EVENT_TEXT_PROPS = ['url', 'title', 'referrer', 'name', 'contentId', 'orderId', 'currency'] as const
export type EventProp = (typeof EVENT_TEXT_PROPS)[number] | 'amount' | `props.${string}`

export const SEGMENT_OPS = ['in', 'notIn'] as const
export type SegmentOp = (typeof SEGMENT_OPS)[number]

export const GROUP_KINDS = ['all', 'any', 'none'] as const
export type GroupKind = (typeof GROUP_KINDS)[number]

export type Scalar = string | number | boolean

/** `{ field, op, value }`: compares one contact field. */
export interface FieldClause {
  field: string
  op: FieldOp
  value?: unknown
}

/** A test on one property of an activity (`url`, `amount`, `props.plan`...). */
export interface EventPredicate {
  field: string
  op: FieldOp
  value?: unknown
}

export interface Measure {
  op: MeasureOp
  value: unknown
}

export interface DateMeasure {
  op: DateMeasureOp
  value: unknown
}

/**
 * `{ activity, where, within, count | sum | avg | first | last }`: what a contact did.
 * Without a measure the clause means "did it at least once".
 */
export interface ActivityClause {
  activity: ActivityType
  /** Custom event name, or the content action (shown, clicked, closed). */
  name?: string
  where?: EventPredicate | EventPredicate[]
  within?: string
  count?: Measure
  /** Sum of the purchase amounts. */
  sum?: Measure
  /** Average purchase amount. */
  avg?: Measure
  first?: DateMeasure
  last?: DateMeasure
}

/** `{ segment, op }`: membership of another segment. */
export interface SegmentClause {
  segment: string
  op: SegmentOp
}

export type Clause = FieldClause | ActivityClause | SegmentClause
export type Group = { all: Condition[] } | { any: Condition[] } | { none: Condition[] }
export type Condition = Group | Clause

export function isGroup(c: Condition): c is Group {
  return 'all' in c || 'any' in c || 'none' in c
}

export function isFieldClause(c: Condition): c is FieldClause {
  return 'field' in c
}

export function isActivityClause(c: Condition): c is ActivityClause {
  return 'activity' in c
}

export function isSegmentClause(c: Condition): c is SegmentClause {
  return 'segment' in c
}

export function groupKind(g: Group): GroupKind {
  return 'all' in g ? 'all' : 'any' in g ? 'any' : 'none'
}

export function groupChildren(g: Group): Condition[] {
  return 'all' in g ? g.all : 'any' in g ? g.any : g.none
}

/** Every segment id the tree refers to. */
export function segmentRefs(c: Condition, into: Set<string> = new Set()): Set<string> {
  if (isGroup(c)) for (const child of groupChildren(c)) segmentRefs(child, into)
  else if (isSegmentClause(c)) into.add(c.segment)
  return into
}

/** Every activity clause of the tree, in order. */
export function activityClauses(c: Condition, into: ActivityClause[] = []): ActivityClause[] {
  if (isGroup(c)) for (const child of groupChildren(c)) activityClauses(child, into)
  else if (isActivityClause(c)) into.push(c)
  return into
}

/** Every contact field the tree reads. */
export function fieldRefs(c: Condition, into: Set<string> = new Set()): Set<string> {
  if (isGroup(c)) for (const child of groupChildren(c)) fieldRefs(child, into)
  else if (isFieldClause(c)) into.add(c.field)
  return into
}
