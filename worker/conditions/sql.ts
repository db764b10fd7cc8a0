/**
 * Compiles a prepared condition tree to one SQLite expression over the `contacts` row aliased `c`,
 * for set-based work in D1 (a segment's backfill, previews). It must agree with evaluate.ts on every
 * input; the property test in test/worker/conditions-agree.test.ts holds the two against each other.
 *
 * Operands are written into the SQL as literals rather than bound, because D1 allows at most 100
 * bound parameters a query and a condition tree with a few `in` lists passes that easily.
 */
import { type FieldInfo } from './fields'
import { type EventProp } from './types'
import { type PreparedActivity, type PreparedNode, type PreparedPredicate, type Test, type ValueKind } from './prepare'
import { applyTest, resolveBound } from './evaluate'

/**
 * A SQL expression that is 1 for every contact meeting the condition at `now` and 0 for every other.
 *
 * Activity clauses come in two shapes. Given the site (`siteId`), for work over a whole site, each becomes
 * one grouped pass over the site's events (`c.id IN (SELECT contact_id … GROUP BY contact_id HAVING …)`),
 * computed once however many contacts there are. Without it, for a few contacts, each becomes a subquery
 * per contact that the events index answers directly.
 *
 * @example
 * const where = compileSql(prepare(tree, catalog), Date.now(), site.id)
 * db.prepare(`SELECT c.id FROM contacts c WHERE c.site_id = ?1 AND ${where}`)
 */
export function compileSql(node: PreparedNode, now: number, siteId?: string): string {
  switch (node.node) {
    case 'group': {
      if (node.children.length === 0) return node.kind === 'any' ? '0' : '1'
      const parts = node.children.map((c) => compileSql(c, now, siteId))
      if (node.kind === 'all') return `(${parts.join(' AND ')})`
      if (node.kind === 'any') return `(${parts.join(' OR ')})`
      return `(NOT (${parts.join(' OR ')}))`
    }
    case 'field':
      return testSql(node.test, node.field ? fieldValue(node.field, node.kind) : 'NULL', now)
    case 'activity':
      return siteId === undefined ? testSql(node.activity.test, activityValue(node.activity, now), now) : activityGrouped(node.activity, now, siteId)
    case 'segment': {
      const exists = `EXISTS (SELECT 1 FROM segment_members m WHERE m.site_id = c.site_id AND m.segment_id = ${text(node.clause.segment)} AND m.contact_id = c.id)`
      return node.member ? `(${exists})` : `(NOT ${exists})`
    }
    case 'never':
      return '0'
  }
}

function fieldValue(field: FieldInfo, kind: ValueKind): string {
  if (field.kind === 'system') {
    const col = `c.${field.column}`
    if (field.type === 'date') return dateValue(col)
    return col
  }
  return jsonValue('c.custom', `$.${field.key}`, kind, field.type === 'date')
}

/**
 * Epoch ms of a `YYYY-MM-DD` text, NULL for anything else. SQLite's date() rolls 2023-02-30 over to
 * 2023-03-02, so comparing it with the text keeps only real dates, as parseInstant does.
 */
function dateValue(x: string): string {
  return `(CASE WHEN date(${x}) = ${x} THEN unixepoch(${x}) * 1000 END)`
}

/** A JSON member read as `kind`, NULL when it is missing or holds another type. */
function jsonValue(doc: string, path: string, kind: ValueKind, isDate = false): string {
  const p = text(path)
  const type = `json_type(${doc}, ${p})`
  const value = `json_extract(${doc}, ${p})`
  switch (kind) {
    case 'text':
      return `(CASE WHEN ${type} = 'text' THEN ${value} END)`
    case 'number':
      return `(CASE WHEN ${type} IN ('integer', 'real') THEN ${value} END)`
    case 'boolean':
      return `(CASE ${type} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`
    case 'instant':
      return isDate
        ? `(CASE WHEN ${type} = 'text' THEN ${dateValue(value)} END)`
        : `(CASE WHEN ${type} IN ('integer', 'real') THEN ${value} END)`
    case 'any':
      return `nullif(${type}, 'null')`
  }
}

const AGGREGATES = {
  count: 'count(*)',
  sum: 'coalesce(sum(e.amount_milli), 0)',
  avg: 'avg(e.amount_milli)',
  first: 'min(e.at)',
  last: 'max(e.at)',
} as const

function activityValue(a: PreparedActivity, now: number): string {
  const where = [`e.site_id = c.site_id`, `e.contact_id = c.id`, `e.type = ${text(a.type)}`]
  if (a.name !== undefined) where.push(`e.name = ${text(a.name)}`)
  if (a.windowMs !== undefined) where.push(`e.at >= ${num(now - a.windowMs)}`)
  for (const p of a.where) where.push(testSql(p.test, propValue(p), now))
  return `(SELECT ${AGGREGATES[a.measure]} FROM events e WHERE ${where.join(' AND ')})`
}

/**
 * The contacts whose activities meet the test, in one pass over the site's events. A contact with no
 * such activity has a count and a sum of 0 and no other measure; when 0 meets the test, the clause is
 * "not among the contacts whose activities fail it".
 */
function activityGrouped(a: PreparedActivity, now: number, siteId: string): string {
  if (a.test.t === 'never') return '0'
  // The unary + keeps SQLite from answering through the type/time index, whose row-by-row lookups cost
  // far more here than reading the site's events in primary-key order, which the ORDER BY asks for.
  const where = [`e.site_id = ${text(siteId)}`, `+e.type = ${text(a.type)}`]
  if (a.name !== undefined) where.push(`+e.name = ${text(a.name)}`)
  if (a.windowMs !== undefined) where.push(`+e.at >= ${num(now - a.windowMs)}`)
  for (const p of a.where) where.push(testSql(p.test, propValue(p), now))
  const rows = `SELECT e.contact_id AS contact_id, e.amount_milli AS amount_milli, e.at AS at FROM events e WHERE ${where.join(' AND ')} ORDER BY e.site_id, e.contact_id, e.id`
  const meets = testSql(a.test, GROUPED_AGGREGATES[a.measure], now)
  const emptyMeets = (a.measure === 'count' || a.measure === 'sum') && applyTest(a.test, 0, now)
  const contacts = `SELECT contact_id FROM (${rows}) GROUP BY contact_id HAVING ${emptyMeets ? `NOT ${meets}` : meets}`
  return emptyMeets ? `(c.id NOT IN (${contacts}))` : `(c.id IN (${contacts}))`
}

const GROUPED_AGGREGATES = {
  count: 'count(*)',
  sum: 'coalesce(sum(amount_milli), 0)',
  avg: 'avg(amount_milli)',
  first: 'min(at)',
  last: 'max(at)',
} as const

const EVENT_COLUMNS: Record<Exclude<EventProp, `props.${string}`>, string> = {
  url: 'e.url', title: 'e.title', referrer: 'e.referrer', name: 'e.name',
  contentId: 'e.content_id', orderId: 'e.order_id', currency: 'e.currency', amount: 'e.amount_milli',
}

function propValue(p: PreparedPredicate): string {
  if (p.prop.startsWith('props.')) return jsonValue('e.props', `$.${p.prop.slice(6)}`, p.kind)
  return EVENT_COLUMNS[p.prop as keyof typeof EVENT_COLUMNS] ?? 'NULL'
}

/** A test on value expression `v`, always 0 or 1 (never NULL, so NOT over it stays two-valued). */
function testSql(test: Test, v: string, now: number): string {
  switch (test.t) {
    case 'never':
      return '0'
    case 'exists':
      return `(${v} IS NOT NULL)`
    case 'missing':
      return `(${v} IS NULL)`
    case 'text': {
      let hit: string
      if (test.values.length === 0) hit = `(CASE WHEN ${v} IS NULL THEN NULL ELSE 0 END)`
      else if (test.mode === 'eq') hit = `lower(${v}) IN (${test.values.map(text).join(', ')})`
      else hit = test.values.map((x) => `${v} LIKE ${likePattern(test.mode, x)} ESCAPE '\\'`).join(' OR ')
      return twoValued(hit, test.negate)
    }
    case 'oneOf': {
      const hit = test.values.length === 0
        ? `(CASE WHEN ${v} IS NULL THEN NULL ELSE 0 END)`
        : `${v} IN (${test.values.map(num).join(', ')})`
      return twoValued(hit, test.negate)
    }
    case 'bool':
      return twoValued(`${v} = ${test.value ? 1 : 0}`, test.negate)
    case 'range': {
      const parts: string[] = []
      if (test.lo) parts.push(`${v} ${test.loIncl ? '>=' : '>'} ${num(resolveBound(test.lo, now))}`)
      if (test.hi) parts.push(`${v} ${test.hiIncl ? '<=' : '<'} ${num(resolveBound(test.hi, now))}`)
      if (parts.length === 0) parts.push(`${v} IS NOT NULL`)
      return twoValued(parts.join(' AND '), false)
    }
  }
}

/** A NULL value (missing) gives NULL through IN, LIKE and comparisons; coalesce makes it a plain 0. */
function twoValued(hit: string, negate: boolean): string {
  return negate ? `coalesce(NOT (${hit}), 0)` : `coalesce((${hit}), 0)`
}

function likePattern(mode: 'contains' | 'starts' | 'ends' | 'eq', value: string): string {
  const escaped = value.replace(/[\\%_]/g, (ch) => `\\${ch}`)
  return text(mode === 'contains' ? `%${escaped}%` : mode === 'starts' ? `${escaped}%` : `%${escaped}`)
}

/** A SQL text literal. Anything beyond printable ASCII goes as UTF-8 hex, so no byte is misread. */
export function text(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return `'${s.replace(/'/g, "''")}'`
  let hex = ''
  for (const b of new TextEncoder().encode(s)) hex += b.toString(16).padStart(2, '0')
  return `CAST(X'${hex}' AS TEXT)`
}

function num(n: number): string {
  if (!Number.isFinite(n)) return 'NULL'
  return n < 0 || Object.is(n, -0) ? `(${String(n)})` : String(n)
}
