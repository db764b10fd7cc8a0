/**
 * Plain-language summaries of condition trees, for previews and the console:
 * "born between 1981-01-01 and 1996-12-31 AND visited a URL containing /rock at least 3 times in the last 30 days".
 */
import { describeDuration } from './durations'
import { type FieldCatalog } from './fields'
import {
  type ActivityClause, type Condition, type EventPredicate, type FieldClause, type Measure,
  groupChildren, groupKind, isActivityClause, isFieldClause, isGroup, isSegmentClause,
} from './types'

export interface SummaryOptions {
  catalog: FieldCatalog
  /** The segment's name for an id; the id itself when it has none. */
  segmentName?: (id: string) => string | undefined
}

/**
 * @example
 * summarize({ all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }, { catalog })
 * // 'born between 1981-01-01 and 1996-12-31'
 */
export function summarize(condition: Condition, options: SummaryOptions, nested = false): string {
  if (isGroup(condition)) {
    const kind = groupKind(condition)
    const parts = groupChildren(condition).map((c) => summarize(c, options, true))
    if (parts.length === 0) return kind === 'any' ? 'nobody' : 'everyone'
    if (kind === 'none') return `NOT ${parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`}`
    const joined = parts.join(kind === 'all' ? ' AND ' : ' OR ')
    return nested && parts.length > 1 ? `(${joined})` : joined
  }
  if (isFieldClause(condition)) return summarizeField(condition, options.catalog)
  if (isActivityClause(condition)) return summarizeActivity(condition)
  if (isSegmentClause(condition)) {
    const name = options.segmentName?.(condition.segment) ?? condition.segment
    return `${condition.op === 'notIn' ? 'not in' : 'in'} segment ${name}`
  }
  return 'an unknown condition'
}

const OP_WORDS: Record<string, string> = {
  eq: 'is', ne: 'is not', in: 'is one of', notIn: 'is none of',
  contains: 'contains', notContains: 'does not contain', startsWith: 'starts with', endsWith: 'ends with',
  gt: 'is greater than', gte: 'is at least', lt: 'is less than', lte: 'is at most',
  before: 'is before', after: 'is after',
}

function opPhrase(op: string, value: unknown): string {
  switch (op) {
    case 'exists':
      return 'is set'
    case 'notExists':
      return 'is not set'
    case 'between':
      return Array.isArray(value) ? `is between ${show(value[0])} and ${show(value[1])}` : 'is between'
    case 'withinLast':
      return `is within the last ${describeDuration(String(value))}`
    case 'olderThan':
      return `is more than ${describeDuration(String(value))} ago`
    default:
      return `${OP_WORDS[op] ?? op} ${show(value)}`
  }
}

function show(value: unknown): string {
  if (Array.isArray(value)) return value.map(show).join(', ')
  if (typeof value === 'string') return value === '' ? '""' : value
  return String(value)
}

function summarizeField(c: FieldClause, catalog: FieldCatalog): string {
  if (c.field === 'birthDate') {
    const born: Record<string, string> = { between: 'born between', before: 'born before', lt: 'born before', after: 'born after', gt: 'born after', eq: 'born on' }
    if (born[c.op] && c.op === 'between' && Array.isArray(c.value)) return `born between ${show(c.value[0])} and ${show(c.value[1])}`
    if (born[c.op] && c.op !== 'between') return `${born[c.op]} ${show(c.value)}`
  }
  const label = catalog.get(c.field)?.label ?? c.field
  return `${label} ${opPhrase(c.op, c.value)}`
}

const VERBS: Record<string, string> = {
  page_visit: 'visited a page',
  purchase: 'made a purchase',
  identify: 'identified themselves',
}

function summarizeActivity(c: ActivityClause): string {
  const predicates: EventPredicate[] = c.where === undefined ? [] : Array.isArray(c.where) ? c.where : [c.where]
  let verb = VERBS[c.activity]
  if (c.activity === 'custom') verb = c.name ? `did ${c.name}` : 'did a custom event'
  if (c.activity === 'content') verb = c.name ? `had content ${c.name}` : 'had content shown, clicked or closed'
  const rest = [...predicates]
  const urlIndex = c.activity === 'page_visit' ? rest.findIndex((p) => p.field === 'url') : -1
  if (urlIndex >= 0) {
    const [url] = rest.splice(urlIndex, 1)
    verb = `visited a URL ${urlPhrase(url)}`
  }
  if (c.first || c.last) {
    const which = c.first ? 'first' : 'last'
    const spec = (c.first ?? c.last)!
    const when = spec.op === 'withinLast' ? `in the last ${describeDuration(String(spec.value))}`
      : spec.op === 'olderThan' ? `more than ${describeDuration(String(spec.value))} ago`
      : opPhrase(spec.op, spec.value).replace(/^is /, '')
    return [`${which} ${verb}`, ...rest.map(withPhrase), when].join(' ')
  }
  const parts = [verb, ...rest.map(withPhrase)]
  if (c.sum) parts.push(`spending ${measurePhrase(c.sum, '')} in total`)
  else if (c.avg) parts.push(`spending ${measurePhrase(c.avg, '')} on average`)
  else if (c.count && !(c.count.op === 'gte' && c.count.value === 1)) parts.push(measurePhrase(c.count, ' times'))
  if (c.within) parts.push(`in the last ${describeDuration(c.within)}`)
  return parts.join(' ')
}

function urlPhrase(p: EventPredicate): string {
  const words: Record<string, string> = {
    eq: 'equal to', ne: 'other than', contains: 'containing', notContains: 'not containing',
    startsWith: 'starting with', endsWith: 'ending with', in: 'among', notIn: 'not among',
  }
  return `${words[p.op] ?? p.op} ${show(p.value)}`
}

function withPhrase(p: EventPredicate): string {
  return `with ${p.field.replace(/^props\./, '')} ${opPhrase(p.op, p.value).replace(/^is /, '')}`
}

function measurePhrase(m: Measure, unit: string): string {
  const v = m.value
  switch (m.op) {
    case 'eq':
      return `exactly ${show(v)}${unit}`
    case 'ne':
      return `other than ${show(v)}${unit}`
    case 'gt':
      return `more than ${show(v)}${unit}`
    case 'gte':
      return `at least ${show(v)}${unit}`
    case 'lt':
      return `fewer than ${show(v)}${unit}`.replace('fewer than', unit ? 'fewer than' : 'less than')
    case 'lte':
      return `at most ${show(v)}${unit}`
    case 'between':
      return Array.isArray(v) ? `between ${show(v[0])} and ${show(v[1])}${unit}` : `between${unit}`
  }
}
