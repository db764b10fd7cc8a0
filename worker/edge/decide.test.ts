import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Activity, evaluate, historyFacts } from '../conditions/evaluate'
import { type CustomFieldDefinition } from '../conditions/fields'
import { type Condition, type EventPredicate } from '../conditions/types'
import { type WorkflowGraph } from '../workflows/types'
import { type SiteConfig, compileSite } from './compile'
import { type IncomingEvent, decide } from './decide'
import { type Snapshot, aggregateHistory, emptySnapshot, mergeSnapshots, snapshotFacts } from './snapshot'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 1, 12)
const millennials: Condition = { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }

function site(
  workflows: Array<{ id: string; graph: WorkflowGraph }>,
  segments: SiteConfig['segments'] = [],
  fields: CustomFieldDefinition[] = [{ key: 'plan', type: 'string' }],
): ReturnType<typeof compileSite> {
  const popup = (id: string) => ({ id, format: 'popup' as const, display: { on: 'immediately' as const }, title: id })
  return compileSite({
    version: 1,
    site: { id: 's', key: 'k', allowedOrigins: [], browserFields: ['birthDate', 'firstName'], fields, identitySecret: 'idsec_test', trustUnsignedIdentify: false },
    segments: [{ id: 'seg_millennials', type: 'dynamic', conditions: millennials }, { id: 'seg_buyers', type: 'static', conditions: null }, ...segments],
    workflows,
    content: Object.fromEntries(['rock', 'jazz', 'hello', 'pro', 'welcome'].map((id) => [id, popup(id)])),
  })
}

const album = {
  id: 'wf_album',
  graph: {
    start: { trigger: { type: 'page_visit' }, limitation: null },
    entry: 'seg',
    nodes: {
      seg: { type: 'isInSegment', segment: 'seg_millennials', yes: 'rock', no: 'jazz', limitation: { cooldown: '1d' } },
      rock: { type: 'showContent', content: 'rock' },
      jazz: { type: 'showContent', content: 'jazz' },
    },
  } as WorkflowGraph,
}

let n = 0
const visit = (at: number, url = 'https://shop.example/'): IncomingEvent => ({ activity: { id: `e${++n}`, type: 'page_visit', at, url } })
const identify = (at: number, fields: Record<string, string>, email?: string): IncomingEvent => ({ activity: { id: `e${++n}`, type: 'identify', at }, identify: { fields, email } })
const shown = (d: ReturnType<typeof decide>) => d.content.map((c) => c.id)

describe('decide', () => {
  const s = site([album])

  it('shows the popup again once the cooldown has passed', () => {
    const first = decide(s, emptySnapshot(s, 'c1', NOW), [identify(NOW, { birthDate: '1990-01-01' }), visit(NOW)], NOW)
    expect(shown(first)).toEqual(['rock'])
    expect(shown(decide(s, first.snapshot, [visit(NOW + DAY - 1)], NOW + DAY - 1))).toEqual([])
    expect(shown(decide(s, first.snapshot, [visit(NOW + DAY)], NOW + DAY))).toEqual(['rock'])
  })

  it('counts a limited node once per run, even for several visits in one batch', () => {
    const d = decide(s, emptySnapshot(s, 'c1', NOW), [visit(NOW), visit(NOW), visit(NOW)], NOW)
    expect(shown(d)).toEqual(['jazz'])
    expect(d.snapshot.k['wf_album/seg']).toEqual([1, NOW])
    expect(d.counters).toEqual(['wf_album/seg'])
  })

  it('stops after maxPerContact runs', () => {
    const limited = site([{ id: 'w', graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'a', nodes: { a: { type: 'showContent', content: 'hello', limitation: { maxPerContact: 2 } } } } }])
    let snap = emptySnapshot(limited, 'c', NOW)
    const seen: string[][] = []
    for (let i = 0; i < 4; i++) {
      const d = decide(limited, snap, [visit(NOW + i)], NOW + i)
      seen.push(shown(d))
      snap = d.snapshot
    }
    expect(seen).toEqual([['hello'], ['hello'], [], []])
  })

  it('fires segment triggers when a contact enters and leaves a dynamic segment', () => {
    const greet = site([
      { id: 'in', graph: { start: { trigger: { type: 'segmentEntered', segment: 'seg_millennials' }, limitation: null }, entry: 'a', nodes: { a: { type: 'showContent', content: 'welcome' } } } },
      { id: 'out', graph: { start: { trigger: { type: 'segmentLeft', segment: 'seg_millennials' }, limitation: null }, entry: 'a', nodes: { a: { type: 'showContent', content: 'hello' } } } },
    ])
    const entered = decide(greet, emptySnapshot(greet, 'c', NOW), [identify(NOW, { birthDate: '1985-05-05' })], NOW)
    expect(shown(entered)).toEqual(['welcome'])
    expect(entered.entered).toEqual(['seg_millennials'])
    const left = decide(greet, entered.snapshot, [identify(NOW, { birthDate: '1975-05-05' })], NOW)
    expect(shown(left)).toEqual(['hello'])
    expect(left.left).toEqual(['seg_millennials'])
  })

  it('lets actions feed segments: setField re-evaluates, addToSegment triggers, static changes are reported', () => {
    const chain = site(
      [
        { id: 'upgrade', graph: { start: { trigger: { type: 'custom', name: 'upgrade' }, limitation: null }, entry: 'a', nodes: { a: { type: 'setField', field: 'plan', value: 'pro', next: 'b' }, b: { type: 'addToSegment', segment: 'seg_buyers' } } } },
        { id: 'pro', graph: { start: { trigger: { type: 'segmentEntered', segment: 'seg_pro' }, limitation: null }, entry: 'a', nodes: { a: { type: 'showContent', content: 'pro' } } } },
      ],
      [{ id: 'seg_pro', type: 'dynamic', conditions: { all: [{ field: 'plan', op: 'eq', value: 'pro' }] } }],
    )
    const d = decide(chain, emptySnapshot(chain, 'c', NOW), [{ activity: { id: 'x', type: 'custom', name: 'upgrade', at: NOW } }], NOW)
    expect(shown(d)).toEqual(['pro'])
    expect(d.fields).toMatchObject({ plan: 'pro' })
    expect(d.statics).toEqual([['seg_buyers', 'add']])
    expect(Object.keys(d.snapshot.m).sort()).toEqual(['seg_buyers', 'seg_pro'])
  })

  it('stops workflows that feed each other forever', () => {
    const loop = site([
      { id: 'a', graph: { start: { trigger: { type: 'segmentEntered', segment: 'seg_buyers' }, limitation: null }, entry: 'x', nodes: { x: { type: 'removeFromSegment', segment: 'seg_buyers' } } } },
      { id: 'b', graph: { start: { trigger: { type: 'segmentLeft', segment: 'seg_buyers' }, limitation: null }, entry: 'x', nodes: { x: { type: 'addToSegment', segment: 'seg_buyers' } } } },
      { id: 'c', graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'x', nodes: { x: { type: 'addToSegment', segment: 'seg_buyers' } } } },
    ])
    const d = decide(loop, emptySnapshot(loop, 'c', NOW), [visit(NOW)], NOW)
    expect(d.statics.length).toBeGreaterThan(10)
    expect(d.statics.length).toBeLessThanOrEqual(101)
  })

  it('keeps a workflow limited to contacts with an email closed to anonymous ones', () => {
    const known = site([{ id: 'w', graph: { start: { trigger: { type: 'page_visit' }, limitation: { hasEmail: true } }, entry: 'a', nodes: { a: { type: 'showContent', content: 'hello' } } } }])
    expect(shown(decide(known, emptySnapshot(known, 'c', NOW), [visit(NOW)], NOW))).toEqual([])
    expect(shown(decide(known, emptySnapshot(known, 'c', NOW), [identify(NOW, {}, 'a@b.co'), visit(NOW)], NOW))).toEqual(['hello'])
  })

  it('follows checkField branches', () => {
    const check = site([{ id: 'w', graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'a', nodes: { a: { type: 'checkField', field: 'firstName', op: 'startsWith', value: 'a', yes: 'b', no: 'c' }, b: { type: 'showContent', content: 'hello' }, c: { type: 'showContent', content: 'welcome' } } } }])
    expect(shown(decide(check, emptySnapshot(check, 'c', NOW), [identify(NOW, { firstName: 'Ana' }), visit(NOW)], NOW))).toEqual(['hello'])
    expect(shown(decide(check, emptySnapshot(check, 'c', NOW), [visit(NOW)], NOW))).toEqual(['welcome'])
  })

  it('shows nothing for content the config lacks, even content named like a prototype member', () => {
    const gone = site(['constructor', 'toString'].map((content) => ({ id: content, graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'a', nodes: { a: { type: 'showContent', content } } } })))
    expect(decide(gone, emptySnapshot(gone, 'c', NOW), [visit(NOW)], NOW).content).toEqual([])
  })

  it('does not change the snapshot it was given', () => {
    const before = emptySnapshot(s, 'c1', NOW)
    const copy = structuredClone(before)
    decide(s, before, [identify(NOW, { birthDate: '1990-01-01' }), visit(NOW)], NOW)
    expect(before).toEqual(copy)
  })
})

describe('snapshot aggregates', () => {
  const windowsAndMeasures: Condition[] = [
    { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 2 }, within: '7d' }] },
    { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 } }] },
    { all: [{ activity: 'purchase', sum: { op: 'gte', value: 50 }, within: '30d' }] },
    { all: [{ activity: 'purchase', avg: { op: 'lt', value: 20 } }] },
    { all: [{ activity: 'purchase', last: { op: 'withinLast', value: '3d' } }] },
    { all: [{ activity: 'page_visit', first: { op: 'olderThan', value: '20d' }, within: '40d' }] },
  ]
  /** Field keys, property names and text, with names every object inherits among them. */
  const NAMES = ['plan', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const
  const TEXTS = ['x', 'X', ...NAMES]
  const FIELDS: CustomFieldDefinition[] = NAMES.filter((k) => k !== '__proto__').map((key) => ({ key, type: 'string' }))

  type ActivitySpec = { type: 'page_visit' | 'purchase' | 'custom'; daysAgo: number; url: string; amount: number; props: Record<string, string | number> }
  const activity: fc.Arbitrary<ActivitySpec> = fc.record({
    type: fc.constantFrom('page_visit' as const, 'purchase' as const, 'custom' as const),
    daysAgo: fc.integer({ min: 0, max: 45 }),
    url: fc.constantFrom('https://s.example/rock/1', 'https://s.example/jazz', 'https://s.example/ROCK', 'https://s.example/constructor', 'https://s.example/?__proto__=toString'),
    amount: fc.integer({ min: 0, max: 60_000 }),
    props: fc.dictionary(fc.constantFrom(...NAMES), fc.oneof(fc.constantFrom(...TEXTS), fc.integer({ min: 0, max: 2 })), { maxKeys: 3, noNullPrototype: true }),
  })
  const fieldsArb = fc.dictionary(fc.constantFrom(...NAMES), fc.constantFrom(...TEXTS), { maxKeys: 4, noNullPrototype: true })
  const predicate: fc.Arbitrary<EventPredicate> = fc.oneof(
    fc.record({ field: fc.constantFrom(...NAMES.map((k) => `props.${k}`)), op: fc.constantFrom('exists' as const, 'notExists' as const) }),
    fc.record({ field: fc.constantFrom(...NAMES.map((k) => `props.${k}`)), op: fc.constantFrom('eq' as const, 'ne' as const, 'contains' as const), value: fc.oneof(fc.constantFrom(...TEXTS), fc.integer({ min: 0, max: 2 })) }),
    fc.record({ field: fc.constant('url'), op: fc.constantFrom('contains' as const, 'endsWith' as const), value: fc.constantFrom(...TEXTS) }),
  )
  const clause: fc.Arbitrary<Condition> = fc.oneof(
    fc.record(
      { activity: fc.constantFrom('custom' as const, 'page_visit' as const), where: predicate, within: fc.constant('7d'), count: fc.record({ op: fc.constant('gte' as const), value: fc.integer({ min: 1, max: 3 }) }) },
      { requiredKeys: ['activity', 'where'] },
    ),
    fc.record({ field: fc.constantFrom(...NAMES), op: fc.constantFrom('exists' as const, 'notExists' as const) }),
    fc.record({ field: fc.constantFrom(...NAMES), op: fc.constantFrom('eq' as const, 'contains' as const), value: fc.constantFrom(...TEXTS) }),
  )
  const conditions = fc.array(clause, { minLength: 1, maxLength: 4 }).map((cs) => [...windowsAndMeasures, ...cs.map((c): Condition => ({ all: [c] }))])

  it('give the same verdicts as the full history, folded one by one or all at once, and after a merge', () => {
    fc.assert(
      fc.property(conditions, fieldsArb, fc.array(activity, { maxLength: 30 }), fc.array(activity, { maxLength: 10 }), fc.integer({ min: 0, max: 10 }), (trees, fields, mine, theirs, laterDays) => {
        const s = site([], trees.map((c, i) => ({ id: `seg_${i}`, type: 'dynamic' as const, conditions: c })), FIELDS)
        const toActivity = (a: ActivitySpec, i: number, who: string): Activity => ({
          id: `${who}${i}`, type: a.type, at: NOW - a.daysAgo * DAY,
          url: a.type === 'page_visit' ? a.url : undefined,
          amountMilli: a.type === 'purchase' ? a.amount : undefined,
          props: a.type === 'custom' ? a.props : undefined,
        })
        const mineActs = mine.map((a, i) => toActivity(a, i, 'm')).sort((x, y) => x.at - y.at)
        const theirActs = theirs.map((a, i) => toActivity(a, i, 't'))
        const later = NOW + laterDays * DAY
        const withFields = (snap: Snapshot): Snapshot => ({ ...snap, f: { ...snap.f, ...fields } })
        const folded = mineActs.reduce((snap, a) => decide(s, snap, [{ activity: a }], a.at).snapshot, withFields(emptySnapshot(s, 'c', NOW - 50 * DAY)))
        const built = withFields({ ...emptySnapshot(s, 'c', NOW), ...aggregateHistory(s, mineActs, NOW) })
        const other = { ...emptySnapshot(s, 'o', NOW), ...aggregateHistory(s, theirActs, NOW) }
        const merged = mergeSnapshots(s, other, built, NOW)
        for (const seg of s.dynamic) {
          const truth = evaluate(seg.node, historyFacts(fields, mineActs, new Set()), later)
          expect(evaluate(seg.node, snapshotFacts(folded, s), later)).toBe(truth)
          expect(evaluate(seg.node, snapshotFacts(built, s), later)).toBe(truth)
          expect(evaluate(seg.node, snapshotFacts(merged, s), later)).toBe(evaluate(seg.node, historyFacts(fields, [...mineActs, ...theirActs], new Set()), later))
        }
      }),
      { numRuns: 300 },
    )
  })
})
