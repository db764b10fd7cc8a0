/**
 * How far back a condition reads a contact's activities, clause by clause. A site keeps activities for a
 * number of days; a clause that reads further back would be wrong once older ones are pruned, so saving
 * one is refused. Pure.
 */
import { parseInstant } from './dates'
import { parseDuration } from './durations'
import { type ActivityClause, type Condition, type DateMeasure, groupChildren, groupKind, isActivityClause, isGroup } from './types'

const DAY_MS = 86_400_000

/** One activity clause's reach: where it stands in the tree, what sets it, and how far back from now. */
export interface ActivityReach {
  /** `conditions.all[1]`, as refusals name a clause. */
  path: string
  /** What sets the reach, as written: `within "500d"`, `last olderThan "400d"`, `first before "2020-01-01"`. */
  what: string
  /** Milliseconds back from now. */
  ms: number
}

/**
 * The reach of each activity clause that has one, at `now`: its window (`within`) when it has one, which
 * bounds everything it reads; otherwise, for `first` and `last`, the longest duration or earliest date
 * their test names. A clause with neither (a count, sum or average over all time) has no reach: it reads
 * whatever the site still keeps.
 *
 * @example
 * activityReaches({ all: [{ activity: 'page_visit', within: '30d' }] }, now)
 * // [{ path: 'conditions.all[0]', what: 'within "30d"', ms: 2_592_000_000 }]
 */
export function activityReaches(tree: Condition, now: number, path = 'conditions'): ActivityReach[] {
  if (isGroup(tree)) {
    const kind = groupKind(tree)
    return groupChildren(tree).flatMap((child, i) => activityReaches(child, now, `${path}.${kind}[${i}]`))
  }
  if (!isActivityClause(tree)) return []
  const reach = clauseReach(tree, now)
  return reach ? [{ path, ...reach }] : []
}

function clauseReach(c: ActivityClause, now: number): Omit<ActivityReach, 'path'> | undefined {
  if (c.within !== undefined) {
    const ms = parseDuration(c.within)
    return ms === undefined ? undefined : { what: `within ${JSON.stringify(c.within)}`, ms }
  }
  for (const measure of ['first', 'last'] as const) {
    const spec = c[measure]
    if (spec === undefined) continue
    const ms = dateMeasureReach(spec, now)
    return ms === undefined ? undefined : { what: `${measure} ${spec.op} ${JSON.stringify(spec.value)}`, ms }
  }
  return undefined
}

/** The furthest back a date test reaches: its duration, or the distance to its earliest date. */
function dateMeasureReach(m: DateMeasure, now: number): number | undefined {
  if (m.op === 'withinLast' || m.op === 'olderThan') return parseDuration(m.value)
  const dates = (m.op === 'between' && Array.isArray(m.value) ? m.value : [m.value]).map(parseInstant)
  if (dates.some((d) => d === undefined)) return undefined
  const reach = now - Math.min(...(dates as number[]))
  return reach > 0 ? reach : undefined
}

/** The clauses of a tree that read further back than `days` of activities, at `now`. */
export function beyondRetention(tree: Condition, days: number, now: number): ActivityReach[] {
  return activityReaches(tree, now).filter((r) => r.ms > days * DAY_MS)
}

/** Whole days in a reach, rounded up: what a refusal says it reads back. */
export function reachDays(r: ActivityReach): number {
  return Math.ceil(r.ms / DAY_MS)
}
