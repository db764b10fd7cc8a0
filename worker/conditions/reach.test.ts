/** How far back each activity clause reads, and which reach beyond a site's retention of activities. */
import { describe, expect, it } from 'vitest'
import { activityReaches, beyondRetention, reachDays } from './reach'
import { type Condition } from './types'

const DAY = 86_400_000
const now = Date.parse('2026-07-01T00:00:00Z')

const cases: Array<[string, Condition, Array<{ what: string; days: number }>]> = [
  ['a window', { all: [{ activity: 'page_visit', count: { op: 'gte', value: 3 }, within: '30d' }] }, [{ what: 'within "30d"', days: 30 }]],
  ['a window bounds a first or last test that names more', { all: [{ activity: 'purchase', within: '30d', last: { op: 'olderThan', value: '900d' } }] }, [{ what: 'within "30d"', days: 30 }]],
  ['last within a duration', { all: [{ activity: 'purchase', last: { op: 'withinLast', value: '500d' } }] }, [{ what: 'last withinLast "500d"', days: 500 }]],
  ['first older than a duration', { all: [{ activity: 'purchase', first: { op: 'olderThan', value: '57w' } }] }, [{ what: 'first olderThan "57w"', days: 399 }]],
  ['a date, counted back from now', { all: [{ activity: 'purchase', first: { op: 'before', value: '2026-06-01' } }] }, [{ what: 'first before "2026-06-01"', days: 30 }]],
  ['the earlier end of a range', { all: [{ activity: 'purchase', last: { op: 'between', value: ['2026-06-01', '2026-05-01'] } }] }, [{ what: 'last between ["2026-06-01","2026-05-01"]', days: 61 }]],
  ['a date still to come reads nothing past', { all: [{ activity: 'purchase', last: { op: 'after', value: '2027-01-01' } }] }, []],
  ['counts, sums and averages over all time have none', { all: [{ activity: 'purchase', count: { op: 'gte', value: 3 } }, { activity: 'purchase', sum: { op: 'gt', value: 100 } }, { activity: 'page_visit' }] }, []],
  ['fields and segments have none', { all: [{ field: 'lastSeenAt', op: 'olderThan', value: '900d' }, { segment: 'seg_vip', op: 'in' }] }, []],
]

describe('activityReaches', () => {
  it.each(cases)('%s', (_, tree, expected) => {
    expect(activityReaches(tree, now).map((r) => ({ what: r.what, days: reachDays(r) }))).toEqual(expected)
  })

  it('names each clause by its path in the tree', () => {
    const tree: Condition = { all: [{ field: 'country', op: 'eq', value: 'ES' }, { any: [{ segment: 'seg_vip', op: 'in' }, { activity: 'page_visit', within: '12h' }] }] }
    expect(activityReaches(tree, now)).toEqual([{ path: 'conditions.all[1].any[1]', what: 'within "12h"', ms: 12 * 3_600_000 }])
  })
})

describe('beyondRetention', () => {
  const tree: Condition = { none: [{ activity: 'page_visit', within: '500d' }, { activity: 'purchase', within: '396d' }, { activity: 'content', last: { op: 'olderThan', value: '9505h' } }] }

  it('keeps the clauses that read further back than the days kept, to the millisecond', () => {
    expect(beyondRetention(tree, 396, now).map((r) => r.path)).toEqual(['conditions.none[0]', 'conditions.none[2]'])
    expect(beyondRetention(tree, 500, now)).toEqual([])
  })

  it('lets a fixed date slip out of the retention as time passes', () => {
    const dated: Condition = { all: [{ activity: 'purchase', last: { op: 'after', value: '2026-01-01' } }] }
    expect(beyondRetention(dated, 396, now)).toEqual([])
    expect(beyondRetention(dated, 396, now + 300 * DAY).map((r) => r.what)).toEqual(['last after "2026-01-01"'])
  })
})
