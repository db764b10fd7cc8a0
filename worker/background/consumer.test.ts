/**
 * Which dynamic segments the consumer recomputes when it writes a visit: those its activities, fields or
 * static changes can move, with those reading them, and every one after a merge.
 */
import { describe, expect, it } from 'vitest'
import { compileSite } from '../visits/compile'
import { affectedSegments } from './consumer'
import { type VisitMessage } from './messages'

const site = compileSite({
  version: 1,
  site: { id: 's', key: 'k', allowedOrigins: [], browserFields: [], fields: [], identitySecret: 'idsec_test', trustUnsignedIdentify: false },
  segments: [
    { id: 'seg_static', type: 'static', conditions: null },
    { id: 'seg_born', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'before', value: '2000-01-01' }] } },
    { id: 'seg_rock', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' } }] } },
    { id: 'seg_buyer', type: 'dynamic', conditions: { all: [{ activity: 'purchase' }] } },
    { id: 'seg_recent', type: 'dynamic', conditions: { all: [{ field: 'lastSeenAt', op: 'withinLast', value: '7d' }] } },
    { id: 'seg_rock_born', type: 'dynamic', conditions: { all: [{ segment: 'seg_rock', op: 'in' }, { segment: 'seg_born', op: 'in' }] } },
    { id: 'seg_listed', type: 'dynamic', conditions: { all: [{ segment: 'seg_static', op: 'in' }] } },
  ],
  workflows: [],
  content: {},
})

const message = (over: Partial<VisitMessage>): VisitMessage => ({ kind: 'visit', id: 'm1', siteId: 's', contactId: 'c', v: 1, activities: [], fields: {}, statics: [], counters: [], ...over })
const ids = (m: VisitMessage) => affectedSegments(site, m).map((s) => s.id).sort()

describe('affectedSegments', () => {
  it('recomputes, for a page visit, the segments that count page visits or read the last-seen time, and those reading them', () => {
    expect(ids(message({ activities: [{ id: 'e', type: 'page_visit', at: 1, url: '/rock' }] }))).toEqual(['seg_recent', 'seg_rock', 'seg_rock_born'])
  })

  it('recomputes, for a field change, the segments that read the field and those reading them', () => {
    expect(ids(message({ fields: { birthDate: '1990-01-01' } }))).toEqual(['seg_born', 'seg_recent', 'seg_rock_born'])
  })

  it('recomputes segments that read a static segment a workflow changed', () => {
    expect(ids(message({ statics: [['seg_static', 'add']] }))).toEqual(['seg_listed', 'seg_recent'])
  })

  it('recomputes everything after a merge', () => {
    expect(ids(message({ mergedFrom: 'anon' }))).toHaveLength(6)
  })
})
