/**
 * The door for condition trees sent by an admin: shape (zod), size, and sense against the site's fields.
 */
import { z } from 'zod'
import { parseInstant } from './dates'
import { parseDuration } from './durations'
import { type FieldCatalog, type FieldType, FIELD_KEY, OPS_BY_TYPE } from './fields'
import { prepare, type PreparedNode } from './prepare'
import {
  ACTIVITY_TYPES, AMOUNT_MEASURES, type Condition, DATE_MEASURE_OPS, FIELD_OPS, type FieldOp, MEASURE_OPS, MEASURES,
  SEGMENT_OPS, groupChildren, isDurationOp, isGroup,
} from './types'

export const MAX_DEPTH = 8
export const MAX_CLAUSES = 100
const MAX_LIST = 200

const scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()])

const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'must be a duration such as 30d, 12h, 15m or 2w',
})

const operandFor = (op: FieldOp) => {
  if (isDurationOp(op)) return duration
  switch (op) {
    case 'exists':
    case 'notExists':
      return z.undefined({ error: `${op} takes no value` })
    case 'between':
      return z.tuple([scalar, scalar], { error: 'between needs two bounds: [from, to]' })
    case 'in':
    case 'notIn':
      return z.array(scalar).min(1, `${op} needs at least one value`).max(MAX_LIST)
    default:
      return scalar
  }
}

function predicateShape() {
  return z
    .strictObject({ field: z.string().min(1).max(100), op: z.enum(FIELD_OPS), value: z.unknown().optional() })
    .superRefine((c, ctx) => {
      const r = operandFor(c.op).safeParse(c.value)
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['value'], message: r.error.issues[0]?.message ?? 'invalid value' })
    })
}

const fieldClause = predicateShape().refine((c) => FIELD_KEY.test(c.field), { message: 'is not a field name', path: ['field'] })

const numberOrRange = (op: string) =>
  op === 'between'
    ? z.tuple([z.number().finite(), z.number().finite()], { error: 'between needs two numbers: [from, to]' })
    : z.number().finite()

const measure = z
  .strictObject({ op: z.enum(MEASURE_OPS), value: z.unknown() })
  .superRefine((m, ctx) => {
    const r = numberOrRange(m.op).safeParse(m.value)
    if (!r.success) ctx.addIssue({ code: 'custom', path: ['value'], message: r.error.issues[0]?.message ?? 'invalid value' })
  })

const dateMeasure = z
  .strictObject({ op: z.enum(DATE_MEASURE_OPS), value: z.unknown() })
  .superRefine((m, ctx) => {
    const date = z.string().refine((s) => parseInstant(s) !== undefined, { message: 'must be a date (YYYY-MM-DD) or an ISO date-time' })
    const schema = m.op === 'between' ? z.tuple([date, date], { error: 'between needs two dates: [from, to]' })
      : isDurationOp(m.op) ? duration : date
    const r = schema.safeParse(m.value)
    if (!r.success) ctx.addIssue({ code: 'custom', path: ['value'], message: r.error.issues[0]?.message ?? 'invalid value' })
  })

const activityClause = z
  .strictObject({
    activity: z.enum(ACTIVITY_TYPES),
    name: z.string().min(1).max(200).optional(),
    where: z.union([predicateShape(), z.array(predicateShape()).max(10)]).optional(),
    within: duration.optional(),
    count: measure.optional(),
    sum: measure.optional(),
    avg: measure.optional(),
    first: dateMeasure.optional(),
    last: dateMeasure.optional(),
  })
  .superRefine((a, ctx) => {
    const measures = MEASURES.filter((m) => a[m] !== undefined)
    if (measures.length > 1) ctx.addIssue({ code: 'custom', message: `use one of count, sum, avg, first or last, not ${measures.join(' and ')}` })
    if (AMOUNT_MEASURES.some((m) => a[m]) && a.activity !== 'purchase') ctx.addIssue({ code: 'custom', message: 'sum and avg apply to purchase amounts only' })
  })

const segmentClause = z.strictObject({ segment: z.string().min(1).max(64), op: z.enum(SEGMENT_OPS, { error: 'must be in or notIn' }) })

const groupSchemas = {
  all: z.lazy(() => z.strictObject({ all: z.array(condition) })),
  any: z.lazy(() => z.strictObject({ any: z.array(condition) })),
  none: z.lazy(() => z.strictObject({ none: z.array(condition) })),
}

/** The schema for a node, chosen by the key that says what it is, so errors speak of that kind only. */
function schemaFor(v: unknown): z.ZodType | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  if ('all' in v) return groupSchemas.all
  if ('any' in v) return groupSchemas.any
  if ('none' in v) return groupSchemas.none
  if ('activity' in v) return activityClause
  if ('segment' in v) return segmentClause
  if ('field' in v) return fieldClause
  return undefined
}

const condition: z.ZodType<Condition> = z.unknown().transform((v, ctx) => {
  const schema = schemaFor(v)
  if (!schema) {
    ctx.addIssue({ code: 'custom', message: 'each condition is an all, any or none group, or a clause with field, activity or segment' })
    return z.NEVER
  }
  const r = schema.safeParse(v)
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path })
    return z.NEVER
  }
  return r.data as Condition
}) as unknown as z.ZodType<Condition>

/** The top of a dynamic segment's tree: an `all`, `any` or `none` group. */
export const conditionTree = z
  .unknown()
  .superRefine((value, ctx) => {
    const size = treeSize(value)
    if (size.depth > MAX_DEPTH) ctx.addIssue({ code: 'custom', message: `conditions nest ${size.depth} levels deep; at most ${MAX_DEPTH} are allowed` })
    else if (size.clauses > MAX_CLAUSES) ctx.addIssue({ code: 'custom', message: `conditions hold ${size.clauses} clauses; at most ${MAX_CLAUSES} are allowed` })
  })
  .pipe(condition)
  .refine((c) => isGroup(c), { message: 'the top of a condition tree must be an all, any or none group' })
  .refine((c) => countClauses(c) > 0, { message: 'a dynamic segment needs at least one condition' })

/** Depth and clause count, without recursion, so a hostile tree cannot exhaust the stack. */
function treeSize(value: unknown): { depth: number; clauses: number } {
  let depth = 0
  let clauses = 0
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    depth = Math.max(depth, d)
    if (depth > MAX_DEPTH) break
    const children = (v as Record<string, unknown>).all ?? (v as Record<string, unknown>).any ?? (v as Record<string, unknown>).none
    if (Array.isArray(children)) for (const c of children) stack.push([c, d + 1])
    else if (++clauses > MAX_CLAUSES) break
  }
  return { depth, clauses }
}

function countClauses(c: Condition): number {
  return isGroup(c) ? groupChildren(c).reduce((n, child) => n + countClauses(child), 0) : 1
}

/** A clause that is well formed but cannot make sense for this site, with where it stands. */
export interface ConditionProblem {
  path: string
  message: string
}

/**
 * Checks a well-formed tree against the site's fields: every field known, every operator and operand fit
 * for the field's type. Returns the problems found (none when the tree makes sense).
 */
export function checkAgainstFields(tree: Condition, catalog: FieldCatalog): ConditionProblem[] {
  const problems: ConditionProblem[] = []
  walk(prepare(tree, catalog), 'conditions', problems)
  return problems
}

function walk(node: PreparedNode, path: string, problems: ConditionProblem[]): void {
  switch (node.node) {
    case 'group':
      node.children.forEach((c, i) => walk(c, `${path}.${node.kind}[${i}]`, problems))
      return
    case 'field': {
      const { field, op, value } = node.clause
      if (!node.field) problems.push({ path, message: `unknown field "${field}": use a system field or declare it in the site's fields` })
      else if (node.test.t === 'never') problems.push({ path, message: explainMismatch(node.field.type, node.field.label, op, value) })
      return
    }
    case 'activity': {
      const a = node.activity
      const bad = a.where.findIndex((p) => p.test.t === 'never')
      if (bad >= 0) problems.push({ path: `${path}.where[${bad}]`, message: 'this test cannot match: check the property, the operator and the value type' })
      else if (a.test.t === 'never') problems.push({ path, message: `the ${a.measure} test cannot match: check its operator and value` })
      return
    }
    default:
      return
  }
}

function explainMismatch(type: FieldType, label: string, op: FieldOp, value: unknown): string {
  if (!OPS_BY_TYPE[type].includes(op)) return `${op} does not apply to ${label}, a ${type} field; use one of ${OPS_BY_TYPE[type].join(', ')}`
  const expected = type === 'date' || type === 'timestamp' ? 'a date (YYYY-MM-DD)' : `a ${type}`
  return `${label} is a ${type} field: the value ${JSON.stringify(value)} must be ${expected}`
}
