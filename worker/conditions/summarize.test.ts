/** Condition trees in plain language, as previews and the console show them. */
import { describe, expect, it } from 'vitest'
import { FieldCatalog } from './fields'
import { summarize } from './summarize'
import { type Condition } from './types'

const catalog = new FieldCatalog([{ key: 'plan', type: 'string', label: 'plan' }])
const names = new Map([['seg_vip', 'VIP']])

const cases: Array<[Condition, string]> = [
  [{ all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }, 'born between 1981-01-01 and 1996-12-31'],
  [
    { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }, { activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] },
    'born between 1981-01-01 and 1996-12-31 AND visited a URL containing /rock at least 3 times in the last 30 days',
  ],
  [{ all: [{ field: 'country', op: 'in', value: ['ES', 'FR'] }] }, 'country is one of ES, FR'],
  [{ all: [{ field: 'plan', op: 'notExists' }] }, 'plan is not set'],
  [{ all: [{ field: 'lastSeenAt', op: 'withinLast', value: '1d' }] }, 'last seen is within the last day'],
  [{ any: [{ segment: 'seg_vip', op: 'in' }, { activity: 'purchase', sum: { op: 'gt', value: 500 } }] }, 'in segment VIP OR made a purchase spending more than 500 in total'],
  [{ all: [{ activity: 'purchase', last: { op: 'olderThan', value: '90d' } }] }, 'last made a purchase more than 90 days ago'],
  [{ all: [{ activity: 'custom', name: 'signup' }, { none: [{ segment: 'seg_vip', op: 'in' }] }] }, 'did signup AND NOT in segment VIP'],
  [{ all: [{ field: 'country', op: 'eq', value: 'ES' }, { any: [{ field: 'plan', op: 'eq', value: 'pro' }, { field: 'plan', op: 'eq', value: 'team' }] }] }, 'country is ES AND (plan is pro OR plan is team)'],
]

describe('summarize', () => {
  it.each(cases)('%j', (condition, expected) => {
    expect(summarize(condition, { catalog, segmentName: (id) => names.get(id) })).toBe(expected)
  })
})
