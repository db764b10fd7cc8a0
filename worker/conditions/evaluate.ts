/**
 * The in-memory evaluator: a prepared condition tree against one contact's facts at a given time.
 * Pure and total: a missing field, a value of the wrong type or an odd operand gives an answer, never a throw.
 */
import { parseInstant } from './dates'
import { type FieldInfo } from './fields'
import {
  AMOUNT_SCALE, type Bound, type PreparedActivity, type PreparedNode, type PreparedPredicate, type Test,
  type ValueKind, asciiLower,
} from './prepare'
import { type ActivityType } from './types'

/** One activity of a contact, as the evaluator sees it. */
export interface Activity {
  id: string
  type: ActivityType
  at: number
  url?: string
  title?: string
  referrer?: string
  name?: string
  contentId?: string
  orderId?: string
  amountMilli?: number
  currency?: string
  props?: Record<string, unknown>
}

/** Aggregates of the activities one clause selects. */
export interface ActivityStats {
  count: number
  sumMilli: number
  /** How many of them carry an amount (the divisor of an average). */
  amounts: number
  first?: number
  last?: number
}

/** What the evaluator may ask about a contact. */
export interface ContactFacts {
  /** The stored value of a field (system or custom), undefined when it has none. */
  field(key: string): unknown
  stats(activity: PreparedActivity, now: number): ActivityStats
  inSegment(segmentId: string): boolean
}

/** Whether the contact meets the condition at `now` (epoch ms). */
export function evaluate(node: PreparedNode, facts: ContactFacts, now: number): boolean {
  switch (node.node) {
    case 'group':
      if (node.kind === 'all') return node.children.every((c) => evaluate(c, facts, now))
      if (node.kind === 'any') return node.children.some((c) => evaluate(c, facts, now))
      return !node.children.some((c) => evaluate(c, facts, now))
    case 'field':
      return applyTest(node.test, readField(node.field, node.kind, facts.field(node.clause.field)), now)
    case 'activity':
      return applyTest(node.activity.test, measureOf(node.activity, facts.stats(node.activity, now)), now)
    case 'segment':
      return facts.inSegment(node.clause.segment) === node.member
    case 'never':
      return false
  }
}

/** A clause's verdict and the value it was compared with; groups carry their children's. */
export interface Explanation {
  met: boolean
  /** The group kind, or the clause as written. */
  group?: 'all' | 'any' | 'none'
  clause?: unknown
  /** The contact's value: a field value, a count, a sum or average in currency units, an ISO date, or membership. */
  actual?: string | number | boolean | null
  children?: Explanation[]
}

/** Like evaluate, keeping for each clause whether it was met and the value compared. */
export function explain(node: PreparedNode, facts: ContactFacts, now: number): Explanation {
  switch (node.node) {
    case 'group': {
      const children = node.children.map((c) => explain(c, facts, now))
      const hits = children.filter((c) => c.met).length
      const met = node.kind === 'all' ? hits === children.length : node.kind === 'any' ? hits > 0 : hits === 0
      return { met, group: node.kind, children }
    }
    case 'field': {
      const raw = facts.field(node.clause.field)
      const value = readField(node.field, node.kind, raw)
      const actual = value === undefined ? null : node.kind === 'instant' && node.field?.type === 'timestamp'
        ? new Date(value as number).toISOString()
        : (raw as string | number | boolean)
      return { met: applyTest(node.test, value, now), clause: node.clause, actual }
    }
    case 'activity': {
      const a = node.activity
      const measured = measureOf(a, facts.stats(a, now))
      let actual: string | number | null = measured ?? null
      if (measured !== undefined && (a.measure === 'sum' || a.measure === 'avg')) actual = measured / AMOUNT_SCALE
      if (measured !== undefined && (a.measure === 'first' || a.measure === 'last')) actual = new Date(measured).toISOString()
      return { met: applyTest(a.test, measured, now), clause: node.clause, actual }
    }
    case 'segment': {
      const member = facts.inSegment(node.clause.segment)
      return { met: member === node.member, clause: node.clause, actual: member }
    }
    case 'never':
      return { met: false, clause: node.clause, actual: null }
  }
}

/** A stored field value as a value of `kind`, or undefined when it is missing or of another type. */
export function readField(field: FieldInfo | undefined, kind: ValueKind, raw: unknown): unknown {
  if (!field) return undefined
  if (kind !== 'instant') return asKind(kind, raw)
  if (field.type === 'timestamp') return asKind('number', raw)
  return typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(raw) ? parseInstant(raw) : undefined
}

/** A raw value if it is of `kind` (`any`: any present value), else undefined. */
function asKind(kind: ValueKind, raw: unknown): unknown {
  switch (kind) {
    case 'text':
      return typeof raw === 'string' ? raw : undefined
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined
    case 'boolean':
      return typeof raw === 'boolean' ? raw : undefined
    default:
      return raw ?? undefined
  }
}

function measureOf(a: PreparedActivity, s: ActivityStats): number | undefined {
  switch (a.measure) {
    case 'count':
      return s.count
    case 'sum':
      return s.sumMilli
    case 'avg':
      return s.amounts > 0 ? s.sumMilli / s.amounts : undefined
    case 'first':
      return s.first
    case 'last':
      return s.last
  }
}

export function resolveBound(b: Bound, now: number): number {
  return 'at' in b ? b.at : now - b.ago
}

/** Applies a prepared test to a value already read as the test's kind. */
export function applyTest(test: Test, v: unknown, now: number): boolean {
  if (test.t === 'never') return false
  if (test.t === 'exists') return v !== undefined
  if (test.t === 'missing') return v === undefined
  if (v === undefined) return false
  switch (test.t) {
    case 'text': {
      if (typeof v !== 'string') return false
      const s = asciiLower(v)
      const hit = test.values.some((x) =>
        test.mode === 'eq' ? s === x : test.mode === 'contains' ? s.includes(x) : test.mode === 'starts' ? s.startsWith(x) : s.endsWith(x))
      return hit !== test.negate
    }
    case 'oneOf':
      return typeof v === 'number' && test.values.includes(v) !== test.negate
    case 'bool':
      return typeof v === 'boolean' && (v === test.value) !== test.negate
    case 'range': {
      if (typeof v !== 'number') return false
      if (test.lo) {
        const lo = resolveBound(test.lo, now)
        if (test.loIncl ? v < lo : v <= lo) return false
      }
      if (test.hi) {
        const hi = resolveBound(test.hi, now)
        if (test.hiIncl ? v > hi : v >= hi) return false
      }
      return true
    }
  }
}

/** Whether one activity is selected by a prepared activity clause at `now`. */
export function selects(a: PreparedActivity, e: Activity, now: number): boolean {
  if (e.type !== a.type) return false
  if (a.name !== undefined && e.name !== a.name) return false
  if (a.windowMs !== undefined && e.at < now - a.windowMs) return false
  return a.where.every((p) => applyTest(p.test, readProp(p, e), now))
}

function readProp(p: PreparedPredicate, e: Activity): unknown {
  if (p.prop === 'amount') return e.amountMilli
  return asKind(p.kind, p.prop.startsWith('props.') ? ownValue(e.props, p.prop.slice(6)) : e[p.prop as keyof Activity])
}

/**
 * What `record` holds under `key` itself, never what every object inherits (`constructor`, `toString`),
 * so a name behaves the same here as in SQL, whose JSON has no prototype.
 *
 * @example
 * ownValue({ a: 1 }, 'constructor') // undefined
 */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined
}

/** Folds activities into the aggregates of one clause. */
export function statsOf(a: PreparedActivity, events: Iterable<Activity>, now: number): ActivityStats {
  const s: ActivityStats = { count: 0, sumMilli: 0, amounts: 0 }
  for (const e of events) if (selects(a, e, now)) accumulate(s, e.at, e.amountMilli)
  return s
}

/** Counts one more activity into stats. */
export function accumulate(s: ActivityStats, at: number, amountMilli: number | null | undefined): ActivityStats {
  s.count++
  if (typeof amountMilli === 'number') {
    s.sumMilli += amountMilli
    s.amounts++
  }
  if (s.first === undefined || at < s.first) s.first = at
  if (s.last === undefined || at > s.last) s.last = at
  return s
}

/** Facts read from a contact's fields, full activity history and memberships. */
export function historyFacts(
  fields: Record<string, unknown>,
  events: readonly Activity[],
  segments: ReadonlySet<string>,
): ContactFacts {
  return {
    field: (key) => ownValue(fields, key),
    stats: (a, now) => statsOf(a, events, now),
    inSegment: (id) => segments.has(id),
  }
}
