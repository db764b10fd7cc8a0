/**
 * The decision, pure and in Node: workflows, limitations and the run cap, each step on its own, the
 * segments a change reaches, and (with fast-check) snapshot aggregates that give the full history's
 * verdicts, folded event by event, built at once or merged.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Activity, evaluate, historyFacts } from '../conditions/evaluate'
import { type CustomFieldDefinition } from '../conditions/fields'
import { type Condition, type EventPredicate } from '../conditions/types'
import { type WorkflowGraph } from '../workflows/types'
import { type SiteConfig, compileSite, reach } from './compile'
import { type IncomingEvent, MAX_RUNS, applyEvent, changeStatic, decide, drain, reevaluate, runWorkflow, startDecision } from './decide'
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

  it('says the decision was cut short, naming the workflow whose run the cap refused, when a pair of workflows feed each other', () => {
    const pair = site([
      { id: 'start', graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'x', nodes: { x: { type: 'addToSegment', segment: 'seg_buyers' } } } },
      { id: 'off', graph: { start: { trigger: { type: 'segmentEntered', segment: 'seg_buyers' }, limitation: null }, entry: 'x', nodes: { x: { type: 'removeFromSegment', segment: 'seg_buyers' } } } },
      { id: 'on', graph: { start: { trigger: { type: 'segmentLeft', segment: 'seg_buyers' }, limitation: null }, entry: 'x', nodes: { x: { type: 'addToSegment', segment: 'seg_buyers' } } } },
    ])
    // Runs: start, then off and on by turns; the 101st, refused, is on's.
    const d = decide(pair, emptySnapshot(pair, 'c', NOW), [visit(NOW), visit(NOW)], NOW)
    expect(d.cutShort).toEqual({ workflow: 'on' })
    expect(d.statics).toHaveLength(MAX_RUNS)
    expect(d.activities).toHaveLength(2)
  })

  it('is not cut short when workflows stop by themselves', () => {
    expect(decide(s, emptySnapshot(s, 'c', NOW), [visit(NOW)], NOW).cutShort).toBeUndefined()
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

describe('the steps of a decision', () => {
  const plan: SiteConfig['segments'] = [
    { id: 'seg_pro', type: 'dynamic', conditions: { all: [{ field: 'plan', op: 'eq', value: 'pro' }] } },
    { id: 'seg_pro_millennials', type: 'dynamic', conditions: { all: [{ segment: 'seg_pro', op: 'in' }, { segment: 'seg_millennials', op: 'in' }] } },
    { id: 'seg_recent', type: 'dynamic', conditions: { all: [{ field: 'lastSeenAt', op: 'withinLast', value: '7d' }] } },
    { id: 'seg_listed', type: 'dynamic', conditions: { all: [{ segment: 'seg_buyers', op: 'in' }] } },
  ]
  const s = site([], plan)
  /** A snapshot whose memberships lag behind its fields: every dynamic segment would take the contact in. */
  const stale = (): Snapshot => ({ ...emptySnapshot(s, 'c', NOW), f: { createdAt: NOW, birthDate: '1990-01-01', plan: 'pro', lastSeenAt: NOW }, m: { seg_millennials: NOW } })

  it('re-evaluates, after a field change, only the segments that read the field and those that read them', () => {
    const state = startDecision(s, stale(), NOW)
    reevaluate(state, { fields: ['plan'] })
    expect(state.out.entered).toEqual(['seg_pro', 'seg_pro_millennials'])
    expect(state.queue).toEqual([{ kind: 'segment', segment: 'seg_pro', entered: true }, { kind: 'segment', segment: 'seg_pro_millennials', entered: true }])
  })

  it('re-evaluates every dynamic segment on a first pass', () => {
    const state = startDecision(s, stale(), NOW)
    reevaluate(state, { everything: true })
    expect(state.out.entered).toEqual(['seg_pro', 'seg_pro_millennials', 'seg_recent'])
  })

  it('applies an event: the fields it sets, the time last seen only when later, the aggregates it selects', () => {
    const counted = site([], [{ id: 'seg_buys', type: 'dynamic', conditions: { all: [{ activity: 'purchase' }] } }])
    const state = startDecision(counted, { ...emptySnapshot(counted, 'c', NOW), f: { createdAt: NOW, lastSeenAt: NOW } }, NOW)
    const change = applyEvent(state, { activity: { id: 'p', type: 'purchase', at: NOW - DAY, amountMilli: 5_000 }, identify: { email: 'a@b.co', fields: { plan: 'pro' } } })
    expect([...change.fields!]).toEqual(['email', 'plan'])
    expect([...change.matchers!]).toEqual([...counted.matchers.keys()])
    expect(state.out.fields).toEqual({ email: 'a@b.co', plan: 'pro' })
    expect(Object.values(state.snap.a).map((a) => a.n)).toEqual([1])
    expect(state.out.entered).toEqual([])
  })

  it('changes a static segment and re-evaluates the dynamic segments that read it', () => {
    const state = startDecision(s, emptySnapshot(s, 'c', NOW), NOW)
    changeStatic(state, 'seg_buyers', true)
    changeStatic(state, 'seg_buyers', true)
    expect(state.out.statics).toEqual([['seg_buyers', 'add']])
    expect(state.out.entered).toEqual(['seg_buyers', 'seg_listed'])
  })

  it('stops a run at a node whose limitation is reached, without counting it', () => {
    const steps = site([
      {
        id: 'w',
        graph: {
          start: { trigger: { type: 'page_visit' }, limitation: null },
          entry: 'a',
          nodes: { a: { type: 'showContent', content: 'hello', next: 'b' }, b: { type: 'showContent', content: 'welcome', limitation: { maxPerContact: 1 }, next: 'c' }, c: { type: 'showContent', content: 'pro' } },
        },
      },
    ])
    const state = startDecision(steps, { ...emptySnapshot(steps, 'c', NOW), k: { 'w/b': [1, NOW - DAY] } }, NOW)
    runWorkflow(state, steps.workflows[0])
    expect(shown(state.out)).toEqual(['hello'])
    expect(state.snap.k['w/b']).toEqual([1, NOW - DAY])
    expect(state.counters.size).toBe(0)
  })

  it('drains triggers until the run cap, and names the workflow it refused', () => {
    const two = site(['first', 'second'].map((id) => ({ id, graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'a', nodes: { a: { type: 'showContent', content: id === 'first' ? 'hello' : 'welcome' } } } })))
    const state = startDecision(two, emptySnapshot(two, 'c', NOW), NOW)
    state.runs = MAX_RUNS - 1
    state.queue.push({ kind: 'activity', activity: visit(NOW).activity })
    drain(state)
    expect(shown(state.out)).toEqual(['hello'])
    expect(state.runs).toBe(MAX_RUNS)
    expect(state.out.cutShort).toEqual({ workflow: 'second' })
  })
})

describe('reach', () => {
  const s = site([], [
    { id: 'seg_pro', type: 'dynamic', conditions: { all: [{ field: 'plan', op: 'eq', value: 'pro' }] } },
    { id: 'seg_rock', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, within: '30d' }] } },
    { id: 'seg_rock_pro', type: 'dynamic', conditions: { all: [{ segment: 'seg_rock', op: 'in' }, { segment: 'seg_pro', op: 'in' }] } },
    { id: 'seg_recent', type: 'dynamic', conditions: { all: [{ field: 'lastSeenAt', op: 'withinLast', value: '7d' }] } },
    { id: 'seg_buyer', type: 'dynamic', conditions: { all: [{ activity: 'purchase' }] } },
    { id: 'seg_listed', type: 'dynamic', conditions: { all: [{ segment: 'seg_buyers', op: 'in' }] } },
  ])
  const ids = (change: Parameters<typeof reach>[1]) => reach(s, change).map((x) => x.id)

  it('reaches the readers of a field, and their readers, in computing order', () => {
    expect(ids({ fields: ['plan'] })).toEqual(['seg_pro', 'seg_rock_pro'])
  })

  it('reaches, for activities of a type, the segments counting that type and those reading the time last seen', () => {
    expect(ids({ activities: ['purchase'] })).toEqual(['seg_recent', 'seg_buyer'])
  })

  it('reaches, for aggregates that moved, only the segments counting them', () => {
    expect(ids({ matchers: s.dynamic.find((x) => x.id === 'seg_rock')!.matchers })).toEqual(['seg_rock', 'seg_rock_pro'])
  })

  it('reaches, for time, the segments that depend on it and those reading them', () => {
    expect(ids({ time: true })).toEqual(['seg_rock', 'seg_rock_pro', 'seg_recent'])
  })

  it('reaches the readers of a static segment, nothing for an empty change, and everything for everything', () => {
    expect(ids({ segments: ['seg_buyers'] })).toEqual(['seg_listed'])
    expect(ids({})).toEqual([])
    expect(ids({ everything: true })).toEqual(s.dynamic.map((x) => x.id))
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

describe('an A/B test and a split', () => {
  const test = (winner?: string) => ({
    id: 'wf_ab',
    graph: {
      start: { trigger: { type: 'page_visit' }, limitation: null },
      entry: 'test',
      nodes: {
        test: { type: 'abTest', variants: [{ id: 'a', weight: 1, next: 'rock' }, { id: 'b', weight: 1, next: 'jazz' }], ...(winner ? { winner } : {}) },
        rock: { type: 'showContent', content: 'rock' },
        jazz: { type: 'showContent', content: 'jazz' },
      },
    } as WorkflowGraph,
  })

  it('shows a contact the same variant on every visit, counts its exposure, and spreads contacts over both', () => {
    const s = site([test()])
    const seen = new Map<string, string[]>()
    for (let i = 0; i < 200; i++) {
      let snap = emptySnapshot(s, `c_${i}`, NOW)
      for (let k = 0; k < 3; k++) {
        const d = decide(s, snap, [visit(NOW + k * DAY)], NOW + k * DAY)
        seen.set(`c_${i}`, [...(seen.get(`c_${i}`) ?? []), ...shown(d)])
        snap = d.snapshot
      }
      const [variant] = Object.keys(snap.k).filter((key) => key.startsWith('wf_ab/test:'))
      expect(snap.k[variant][0]).toBe(3)
      expect(seen.get(`c_${i}`)).toEqual(Array(3).fill(variant.endsWith(':a') ? 'rock' : 'jazz'))
    }
    const rock = [...seen.values()].filter((list) => list[0] === 'rock').length
    expect(rock).toBeGreaterThan(70)
    expect(rock).toBeLessThan(130)
  })

  it('sends everyone to the winner once it is picked, and counts no more exposures', () => {
    const s = site([test('b')])
    for (let i = 0; i < 30; i++) {
      const d = decide(s, emptySnapshot(s, `c_${i}`, NOW), [visit(NOW)], NOW)
      expect(shown(d)).toEqual(['jazz'])
      expect(d.counters).toEqual([])
    }
  })

  it('branches a split by weight, the same way every time, without counting', () => {
    const graph = { ...test().graph, nodes: { ...test().graph.nodes, test: { type: 'split', branches: [{ id: 'hold', weight: 1 }, { id: 'show', weight: 9, next: 'rock' }] } } } as WorkflowGraph
    const s = site([{ id: 'wf_split', graph }])
    let held = 0
    for (let i = 0; i < 1000; i++) {
      const first = decide(s, emptySnapshot(s, `c_${i}`, NOW), [visit(NOW)], NOW)
      const again = decide(s, first.snapshot, [visit(NOW + 1)], NOW + 1)
      expect(shown(again)).toEqual(shown(first))
      expect(first.counters).toEqual([])
      if (shown(first).length === 0) held++
    }
    expect(held).toBeGreaterThan(70)
    expect(held).toBeLessThan(130)
  })
})

describe('priority', () => {
  const showing = (id: string, content: string, extra: Partial<WorkflowGraph['nodes'][string]> = {}) => ({
    id,
    graph: {
      start: { trigger: { type: 'page_visit' }, limitation: null },
      entry: 'mark',
      nodes: {
        mark: { type: 'setField', field: 'plan', value: id, next: 'show' },
        show: { type: 'showContent', content, limitation: { cooldown: '1d' }, ...extra },
      },
    } as WorkflowGraph,
  })

  it('shows only the first workflow\'s popup when two would show one, and the other\'s run leaves no trace', () => {
    const s = site([showing('wf_first', 'rock'), showing('wf_second', 'jazz')])
    const d = decide(s, emptySnapshot(s, 'c1', NOW), [visit(NOW)], NOW)
    expect(shown(d)).toEqual(['rock'])
    expect(d.counters).toEqual(['wf_first/show'])
    expect(d.snapshot.k['wf_second/show']).toBeUndefined()
    expect(d.fields.plan).toBe('wf_first')
    // The next day, the first is cooling down: the second shows.
    const next = decide(s, d.snapshot, [visit(NOW + DAY / 2)], NOW + DAY / 2)
    expect(shown(next)).toEqual(['jazz'])
    expect(next.fields.plan).toBe('wf_second')
  })

  it('follows the order the sites\' config gives, and lets content that does not interrupt through', () => {
    const s = site([showing('wf_second', 'jazz'), showing('wf_first', 'rock')])
    expect(shown(decide(s, emptySnapshot(s, 'c1', NOW), [visit(NOW)], NOW))).toEqual(['jazz'])
    const bar = compileSite({ ...s.config, content: { ...s.config.content, jazz: { ...s.config.content.jazz, format: 'bar' } } })
    expect(shown(decide(bar, emptySnapshot(bar, 'c1', NOW), [visit(NOW)], NOW)).sort()).toEqual(['jazz', 'rock'])
    const quiet = compileSite({ ...s.config, content: { ...s.config.content, rock: { ...s.config.content.rock, interruptive: false } } })
    expect(shown(decide(quiet, emptySnapshot(quiet, 'c1', NOW), [visit(NOW)], NOW)).sort()).toEqual(['jazz', 'rock'])
  })
})

describe('schedules', () => {
  const scheduled = (schedule: NonNullable<WorkflowGraph['start']['schedule']>, timeZone: string, contentSchedule?: object) => {
    const base = site([{ id: 'wf_s', graph: { start: { trigger: { type: 'page_visit' }, limitation: null, schedule }, entry: 'show', nodes: { show: { type: 'showContent', content: 'rock' } } } as WorkflowGraph }])
    return compileSite({ ...base.config, site: { ...base.config.site, timeZone }, content: { ...base.config.content, rock: { ...base.config.content.rock, ...(contentSchedule ? { schedule: contentSchedule } : {}) } } })
  }
  const at = (s: ReturnType<typeof site>, now: number) => shown(decide(s, emptySnapshot(s, 'c1', now), [visit(now)], now))

  it('runs a workflow only in its weekly hours, in the site\'s time zone, across the autumn change of the clocks', () => {
    // New York, Sunday 1 November 2026: 01:00–02:00 happens twice (EDT, then EST).
    const s = scheduled({ weekly: [{ days: ['sun'], from: '01:00', to: '02:00' }] }, 'America/New_York')
    expect(at(s, Date.UTC(2026, 10, 1, 4, 59))).toEqual([]) // 00:59 EDT
    expect(at(s, Date.UTC(2026, 10, 1, 5, 0))).toEqual(['rock']) // 01:00 EDT
    expect(at(s, Date.UTC(2026, 10, 1, 6, 30))).toEqual(['rock']) // 01:30 EST, the second time round
    expect(at(s, Date.UTC(2026, 10, 1, 7, 0))).toEqual([]) // 02:00 EST
  })

  it('never opens a window the spring change of the clocks skips, and starts a skipped start time after the gap', () => {
    const gap = scheduled({ weekly: [{ days: ['sun'], from: '02:00', to: '03:00' }] }, 'America/New_York')
    for (let m = 0; m < 180; m += 15) expect(at(gap, Date.UTC(2026, 2, 8, 6, m))).toEqual([])
    const start = scheduled({ start: '2026-03-08T02:30' }, 'America/New_York')
    expect(at(start, Date.UTC(2026, 2, 8, 6, 59))).toEqual([]) // 01:59 EST
    expect(at(start, Date.UTC(2026, 2, 8, 7, 0))).toEqual(['rock']) // 03:00 EDT, the first instant after the gap
  })

  it('shows content only between its start and end', () => {
    const s = scheduled({}, 'Europe/Madrid', { start: '2026-12-01', end: '2026-12-25T00:00' })
    expect(at(s, Date.UTC(2026, 10, 30, 22, 59))).toEqual([]) // 23:59 in Madrid
    expect(at(s, Date.UTC(2026, 10, 30, 23, 0))).toEqual(['rock'])
    const shownPayload = decide(s, emptySnapshot(s, 'c1', Date.UTC(2026, 11, 10)), [visit(Date.UTC(2026, 11, 10))], Date.UTC(2026, 11, 10)).content[0]
    expect(shownPayload).not.toHaveProperty('schedule')
    expect(at(s, Date.UTC(2026, 11, 24, 23, 0))).toEqual([])
  })
})

describe('fatigue caps', () => {
  const popups = (fatigue: { perSession?: number; perDay?: number }, closedRule = false) => {
    const base = site([
      { id: 'wf_one', graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'show', nodes: { show: { type: 'showContent', content: 'rock', limitation: { cooldown: '10m' } } } } as WorkflowGraph },
    ])
    return compileSite({ ...base.config, site: { ...base.config.site, fatigue }, content: { ...base.config.content, rock: { ...base.config.content.rock, ...(closedRule ? { neverAfterClosed: true } : {}) } } })
  }
  const MIN = 60_000

  it('shows at most N interruptive pieces a session; a new session after 30 minutes away starts again', () => {
    const s = popups({ perSession: 1 })
    let snap = emptySnapshot(s, 'c1', NOW)
    const step = (at: number) => {
      const d = decide(s, snap, [visit(at)], at)
      snap = d.snapshot
      return d
    }
    expect(shown(step(NOW))).toEqual(['rock'])
    const capped = step(NOW + 15 * MIN)
    expect(shown(capped)).toEqual([])
    // The run past the cap is undone: its cooldown counter did not move.
    expect(capped.counters).toEqual([])
    expect(shown(step(NOW + 25 * MIN))).toEqual([])
    expect(shown(step(NOW + 25 * MIN + 31 * MIN))).toEqual(['rock'])
  })

  it('shows at most N a day, whatever the sessions', () => {
    const s = popups({ perDay: 2 })
    let snap = emptySnapshot(s, 'c1', NOW)
    const seen: string[][] = []
    for (const h of [0, 2, 4, 6, 25]) {
      const d = decide(s, snap, [visit(NOW + h * 60 * MIN)], NOW + h * 60 * MIN)
      snap = d.snapshot
      seen.push(shown(d))
    }
    expect(seen).toEqual([['rock'], ['rock'], [], [], ['rock']])
  })

  it('never shows content marked so again once the visitor closed it, and sends browsers neither rule', () => {
    const s = popups({}, true)
    const first = decide(s, emptySnapshot(s, 'c1', NOW), [visit(NOW)], NOW)
    expect(first.content[0]).not.toHaveProperty('neverAfterClosed')
    const closed = decide(s, first.snapshot, [{ activity: { id: 'x1', type: 'content', at: NOW + MIN, contentId: 'rock', name: 'closed', props: { workflow: 'wf_one' } } }], NOW + MIN)
    expect(shown(decide(s, closed.snapshot, [visit(NOW + 60 * MIN)], NOW + 60 * MIN))).toEqual([])
  })
})

describe('never again after they converted', () => {
  const converting = (conversion?: { type: 'custom'; name: string }, attributionDays = 7) => {
    const base = site([
      { id: 'wf_one', graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'show', nodes: { show: { type: 'showContent', content: 'rock' } } } as WorkflowGraph },
    ])
    return compileSite({
      ...base.config,
      site: { ...base.config.site, attributionDays, ...(conversion ? { conversion } : {}) },
      content: { ...base.config.content, rock: { ...base.config.content.rock, neverAfterConverted: true } },
    })
  }
  const purchase = (at: number) => ({ activity: { id: `p${at}`, type: 'purchase' as const, at, amountMilli: 20_000 } })
  const signup = (at: number) => ({ activity: { id: `s${at}`, type: 'custom' as const, at, name: 'signup' } })
  const run = (s: ReturnType<typeof converting>, steps: Array<[number, IncomingEvent[]]>) => {
    let snap = emptySnapshot(s, 'c1', NOW)
    return steps.map(([at, events]) => {
      const d = decide(s, snap, events, at)
      snap = d.snapshot
      return shown(d)
    })
  }

  it('stops showing content once the visitor bought within the attribution window after first seeing it', () => {
    const s = converting()
    expect(run(s, [[NOW, [visit(NOW)]], [NOW + DAY, [purchase(NOW + DAY)]], [NOW + 2 * DAY, [visit(NOW + 2 * DAY)]]])).toEqual([['rock'], [], []])
    expect(decide(s, emptySnapshot(s, 'c1', NOW), [visit(NOW)], NOW).content[0]).not.toHaveProperty('neverAfterConverted')
  })

  it('keeps showing it when the purchase came before it was shown, or after the window closed', () => {
    const s = converting(undefined, 2)
    expect(run(s, [[NOW, [purchase(NOW)]], [NOW + 1, [visit(NOW + 1)]], [NOW + 2, [visit(NOW + 2)]]])).toEqual([[], ['rock'], ['rock']])
    expect(run(s, [[NOW, [visit(NOW)]], [NOW + 3 * DAY, [purchase(NOW + 3 * DAY)]], [NOW + 4 * DAY, [visit(NOW + 4 * DAY)]]])).toEqual([['rock'], [], ['rock']])
  })

  it('counts the custom event the site chose as the conversion, and then a purchase no longer does', () => {
    const s = converting({ type: 'custom', name: 'signup' })
    expect(run(s, [[NOW, [visit(NOW)]], [NOW + 1000, [purchase(NOW + 1000)]], [NOW + 2000, [visit(NOW + 2000)]]])).toEqual([['rock'], [], ['rock']])
    expect(run(s, [[NOW, [visit(NOW)]], [NOW + 1000, [signup(NOW + 1000)]], [NOW + 2000, [visit(NOW + 2000)]]])).toEqual([['rock'], [], []])
  })

  it('sees a conversion in the same batch as the visit that showed the content', () => {
    const s = converting()
    expect(run(s, [[NOW + 1, [visit(NOW), purchase(NOW + 1)]], [NOW + 2, [visit(NOW + 2)]]])).toEqual([['rock'], []])
  })
})

describe('content made for the visitor', () => {
  const one = (content: Record<string, unknown>, limitation?: { maxPerContact?: number; cooldown?: string }) => {
    const base = site([
      { id: 'wf_one', graph: { start: { trigger: { type: 'page_visit' }, limitation: null }, entry: 'show', nodes: { show: { type: 'showContent', content: 'rock', ...(limitation ? { limitation } : {}) } } } as WorkflowGraph },
    ])
    return compileSite({ ...base.config, content: { ...base.config.content, rock: { ...base.config.content.rock, ...content } } })
  }
  const run = (s: ReturnType<typeof one>, steps: Array<[number, IncomingEvent[]]>) => {
    let snap = emptySnapshot(s, 'c1', NOW)
    return steps.map(([at, events]) => {
      const d = decide(s, snap, events, at)
      snap = d.snapshot
      return d
    })
  }
  const MIN = 60_000

  it('waits for the page views of the session it asks for, without spending its node\'s limitation', () => {
    const s = one({ display: { on: 'pageViews', count: 3 } }, { maxPerContact: 1 })
    const seen = run(s, [[NOW, [visit(NOW)]], [NOW + MIN, [visit(NOW + MIN)]], [NOW + 2 * MIN, [visit(NOW + 2 * MIN)]], [NOW + 3 * MIN, [visit(NOW + 3 * MIN)]]])
    expect(seen.map(shown)).toEqual([[], [], ['rock'], []])
    expect(seen[2].content[0].display).toEqual({ on: 'immediately' })
    // A new session (30 minutes away) counts again from its first page.
    const later = run(one({ display: { on: 'pageViews', count: 2 } }), [[NOW, [visit(NOW)]], [NOW + MIN, [visit(NOW + MIN)]], [NOW + 40 * MIN, [visit(NOW + 40 * MIN)]], [NOW + 41 * MIN, [visit(NOW + 41 * MIN)]]])
    expect(later.map(shown)).toEqual([[], ['rock'], [], ['rock']])
  })

  it('never shows content marked so again once its form was submitted', () => {
    const s = one({ form: { fields: [{ key: 'email', label: 'Email', type: 'email' }], submit: 'Join' }, neverAfterSubmitted: true })
    const submitted: IncomingEvent = { activity: { id: 'sub1', type: 'content', at: NOW + 1000, contentId: 'rock', name: 'submitted', props: { workflow: 'wf_one' } } }
    const seen = run(s, [[NOW, [visit(NOW)]], [NOW + 1000, [submitted]], [NOW + 2000, [visit(NOW + 2000)]]])
    expect(seen.map(shown)).toEqual([['rock'], [], []])
    expect(seen[0].content[0]).not.toHaveProperty('neverAfterSubmitted')
  })

  it('fills tokens from the contact and picks the version of the page visit\'s language, a language field first', () => {
    const s = one({ title: 'Hi {{firstName | "there"}}', defaultLanguage: 'en', versions: { ar: { title: 'مرحبا {{firstName | "صديقي"}}' } } })
    const arabic: IncomingEvent = { activity: { id: 'v-ar', type: 'page_visit', at: NOW, url: 'https://shop.example/', props: { language: 'ar-EG' } } }
    const [d] = run(s, [[NOW, [identify(NOW, { firstName: 'Layla' }), arabic]]])
    expect(d.content[0]).toMatchObject({ title: 'مرحبا Layla', lang: 'ar', dir: 'rtl' })
    expect(d.content[0]).not.toHaveProperty('versions')
    const [plain] = run(s, [[NOW, [visit(NOW)]]])
    expect(plain.content[0]).toMatchObject({ title: 'Hi there', lang: 'en' })
    const [chosen] = run(s, [[NOW, [identify(NOW, { language: 'en' }), arabic]]])
    expect(chosen.content[0]).toMatchObject({ title: 'Hi there', lang: 'en' })
  })
})

describe('attention when two contacts become one', () => {
  it('counts the interruptive content both were shown against the caps, and keeps what either closed', () => {
    const s = site([])
    const a = { ...emptySnapshot(s, 'anon', NOW), z: { s: NOW - 1000, i: [NOW - 1000], c: ['jazz'] } }
    const b = { ...emptySnapshot(s, 'known', NOW), z: { s: NOW - 5000, i: [NOW - 2 * DAY, NOW - 3000], c: ['rock'] } }
    expect(mergeSnapshots(s, b, a, NOW).z).toEqual({ s: NOW - 1000, i: [NOW - 3000, NOW - 1000], c: ['rock', 'jazz'] })
  })

  it('keeps the earlier first show of content either was shown, and what either converted after', () => {
    const s = site([])
    const a = { ...emptySnapshot(s, 'anon', NOW), z: { h: { rock: NOW - 1000, jazz: NOW - 500 }, v: ['pop'] } }
    const b = { ...emptySnapshot(s, 'known', NOW), z: { h: { rock: NOW - 9000 }, v: ['blues'] } }
    expect(mergeSnapshots(s, b, a, NOW).z).toEqual({ h: { rock: NOW - 9000, jazz: NOW - 500 }, v: ['blues', 'pop'] })
  })
})
