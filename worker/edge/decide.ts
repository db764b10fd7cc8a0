/**
 * The decision: a batch of events applied to a contact's snapshot, in memory. Fields and aggregates
 * change, the dynamic segments that can feel it are re-evaluated (membership changes on this very
 * request), the workflows the events trigger run, and the content to show comes out. Plain data in,
 * plain data out: no I/O, and `now` is a parameter.
 */
import { type ContentPayload } from '../../shared/content'
import { type Activity, applyTest, evaluate, ownValue } from '../conditions/evaluate'
import { parseDuration } from '../conditions/durations'
import { type Scalar } from '../conditions/types'
import { type WorkflowNode } from '../workflows/types'
import { type CompiledSite, type CompiledWorkflow } from './compile'
import { type Snapshot, foldActivity, snapshotFacts } from './snapshot'

export interface IncomingEvent {
  activity: Activity
  /** What an identify event sets; null clears a field. */
  identify?: { email?: string; externalId?: string; fields?: Record<string, Scalar | null> }
}

export interface Decision {
  snapshot: Snapshot
  content: ContentPayload[]
  activities: Activity[]
  /** Net field changes, email and externalId included; null clears. */
  fields: Record<string, Scalar | null>
  /** Static memberships changed by workflow actions. */
  statics: Array<[segment: string, change: 'add' | 'remove']>
  /** Counters that moved ("workflow/node"). */
  counters: string[]
  entered: string[]
  left: string[]
}

type Trigger =
  | { kind: 'activity'; activity: Activity }
  | { kind: 'segment'; segment: string; entered: boolean }

interface Changes {
  fields: Set<string>
  matchers: Set<string>
  segments: Set<string>
}

/** Workflow runs a single request may cause, so segments and workflows that feed each other stop. */
export const MAX_RUNS = 100
const MAX_STEPS = 100

/**
 * Applies `events` to a copy of `snapshot` at `now`.
 *
 * @example
 * const { content, snapshot: next } = decide(site, snapshot, [{ activity: { id, type: 'page_visit', at: now, url } }], now)
 */
export function decide(site: CompiledSite, snapshot: Snapshot, events: readonly IncomingEvent[], now: number): Decision {
  // Aggregates and counter tuples are replaced, never changed in place, so copying the maps suffices.
  const snap: Snapshot = { ...snapshot, f: { ...snapshot.f }, m: { ...snapshot.m }, a: { ...snapshot.a }, x: [...snapshot.x], k: { ...snapshot.k } }
  const out: Decision = { snapshot: snap, content: [], activities: [], fields: {}, statics: [], counters: [], entered: [], left: [] }
  const shown = new Set<string>()
  const counters = new Set<string>()
  const queue: Trigger[] = []
  let runs = 0

  const setField = (key: string, value: Scalar | null, changes: Changes) => {
    if (value === null) {
      if (!Object.hasOwn(snap.f, key)) return
      delete snap.f[key]
    } else {
      if (snap.f[key] === value) return
      snap.f[key] = value
    }
    out.fields[key] = value
    changes.fields.add(key)
  }

  // The first pass looks at every dynamic segment: time has passed and the site's segments may have
  // changed since the snapshot was made. Later passes look only at what a change can reach.
  let fullPass = true

  /** Re-evaluates the dynamic segments the changes can reach, in computing order. */
  const reevaluate = (changes: Changes) => {
    const facts = snapshotFacts(snap, site)
    const all = fullPass
    fullPass = false
    for (const s of site.dynamic) {
      const touched = all || s.timeDependent || intersects(s.fields, changes.fields) || intersects(s.matchers, changes.matchers) || intersects(s.segments, changes.segments)
      if (!touched) continue
      const member = evaluate(s.node, facts, now)
      if (member === Object.hasOwn(snap.m, s.id)) continue
      if (member) snap.m[s.id] = now
      else delete snap.m[s.id]
      changes.segments.add(s.id)
      ;(member ? out.entered : out.left).push(s.id)
      queue.push({ kind: 'segment', segment: s.id, entered: member })
    }
  }

  const changeStatic = (segment: string, add: boolean) => {
    if (Object.hasOwn(snap.m, segment) === add) return
    if (add) snap.m[segment] = now
    else delete snap.m[segment]
    out.statics.push([segment, add ? 'add' : 'remove'])
    ;(add ? out.entered : out.left).push(segment)
    queue.push({ kind: 'segment', segment, entered: add })
    reevaluate({ fields: new Set(), matchers: new Set(), segments: new Set([segment]) })
  }

  const run = (w: CompiledWorkflow) => {
    const facts = snapshotFacts(snap, site)
    let id: string | undefined = w.graph.entry
    for (let step = 0; id !== undefined && step < MAX_STEPS; step++) {
      const node: WorkflowNode | undefined = w.graph.nodes[id]
      if (!node) return
      if (node.limitation) {
        const key = `${w.id}/${id}`
        const [count, last] = snap.k[key] ?? [0, undefined]
        const cooldown = node.limitation.cooldown ? parseDuration(node.limitation.cooldown) ?? 0 : 0
        if (node.limitation.maxPerContact !== undefined && count >= node.limitation.maxPerContact) return
        if (last !== undefined && now - last < cooldown) return
        snap.k[key] = [count + 1, now]
        counters.add(key)
      }
      switch (node.type) {
        case 'isInSegment':
          id = Object.hasOwn(snap.m, node.segment) ? node.yes : node.no
          break
        case 'checkField':
        case 'hasField':
          id = evaluate(w.fieldTests.get(id)!, facts, now) ? node.yes : node.no
          break
        case 'showContent': {
          const payload = ownValue(site.config.content, node.content)
          if (payload && !shown.has(payload.id)) {
            shown.add(payload.id)
            out.content.push({ ...payload, workflow: w.id })
          }
          id = node.next
          break
        }
        case 'addToSegment':
        case 'removeFromSegment':
          if (site.segmentTypes.get(node.segment) === 'static') changeStatic(node.segment, node.type === 'addToSegment')
          id = node.next
          break
        case 'setField': {
          const changes: Changes = { fields: new Set(), matchers: new Set(), segments: new Set() }
          setField(node.field, node.value, changes)
          reevaluate(changes)
          id = node.next
          break
        }
      }
    }
  }

  const drain = () => {
    while (queue.length > 0) {
      const t = queue.shift()!
      for (const w of site.workflows) {
        if (!triggers(w, t, now) || !mayEnter(w, snap)) continue
        if (++runs > MAX_RUNS) return
        run(w)
      }
    }
  }

  for (const e of events) {
    const changes: Changes = { fields: new Set(), matchers: new Set(), segments: new Set() }
    if (e.identify) {
      if (e.identify.email !== undefined) setField('email', e.identify.email, changes)
      if (e.identify.externalId !== undefined) setField('externalId', e.identify.externalId, changes)
      for (const [key, value] of Object.entries(e.identify.fields ?? {})) setField(key, value, changes)
    }
    const seen = typeof snap.f.lastSeenAt === 'number' ? snap.f.lastSeenAt : -Infinity
    if (e.activity.at > seen) setField('lastSeenAt', e.activity.at, changes)
    out.activities.push(e.activity)
    changes.matchers = foldActivity(site, snap, e.activity, now)
    queue.push({ kind: 'activity', activity: e.activity })
    reevaluate(changes)
    drain()
  }
  out.counters = [...counters]
  return out
}

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (b.size === 0) return false
  for (const x of a) if (b.has(x)) return true
  return false
}

function triggers(w: CompiledWorkflow, t: Trigger, now: number): boolean {
  const spec = w.graph.start.trigger
  if (t.kind === 'segment') {
    return (spec.type === 'segmentEntered' && t.entered && spec.segment === t.segment) || (spec.type === 'segmentLeft' && !t.entered && spec.segment === t.segment)
  }
  const a = t.activity
  switch (spec.type) {
    case 'page_visit':
      if (a.type !== 'page_visit') return false
      if (w.urlTest && !applyTest(w.urlTest, a.url, now)) return false
      return !w.excludeTests.some((x) => applyTest(x, a.url, now))
    case 'purchase':
    case 'identify':
      return a.type === spec.type
    case 'custom':
      return a.type === 'custom' && a.name === spec.name
    default:
      return false
  }
}

function mayEnter(w: CompiledWorkflow, snap: Snapshot): boolean {
  const lim = w.graph.start.limitation
  if (!lim) return true
  if ('segment' in lim) return Object.hasOwn(snap.m, lim.segment)
  return typeof snap.f.email === 'string'
}
