/**
 * The decision: a batch of events applied to a contact's snapshot, in memory. Fields and aggregates
 * change, the dynamic segments that can feel it are re-evaluated (membership changes on this very
 * request), the workflows the events trigger run, and the content to show comes out. Plain data in,
 * plain data out: no I/O, and `now` is a parameter.
 */
import { type ContentPayload } from '../../shared/content'
import { type Activity, type ContactFacts, applyTest, evaluate, ownValue } from '../conditions/evaluate'
import { parseDuration } from '../conditions/durations'
import { type Scalar } from '../conditions/types'
import { assignVariant, stickyPoint } from '../workflows/assign'
import { type Schedule, inSchedule } from '../workflows/schedule'
import { personalize } from '../content/personalize'
import { type DeviceClass, type NodeLimitation, type WorkflowNode } from '../workflows/types'
import { type CompiledSite, type CompiledWorkflow, type InputChange, reach } from './compile'
import { SESSION_GAP_MS, type Snapshot, foldActivity, snapshotFacts } from './snapshot'

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
  /**
   * Where the runs went, each once: [workflow, node, branch], node '' for entering the workflow, branch ''
   * for reaching a node, else the branch it left by (yes, no, next, a variant id). For the builder's live view.
   */
  passes: Array<[workflow: string, node: string, branch: string]>
  entered: string[]
  left: string[]
  /** Set when the request reached MAX_RUNS: the workflow whose run was refused, and with it the rest. */
  cutShort?: { workflow: string }
}

/** Something that happened and may start workflows: an activity, or a contact entering or leaving a segment. */
export type Trigger =
  | { kind: 'activity'; activity: Activity }
  | { kind: 'segment'; segment: string; entered: boolean }

/** Workflow runs a single request may cause, so segments and workflows that feed each other stop. */
export const MAX_RUNS = 100
const MAX_STEPS = 100

/**
 * A decision under way, which every step below reads and changes: the working copy of the snapshot,
 * what the decision has produced so far, and the triggers not yet handed to workflows.
 */
export interface DecisionState {
  readonly site: CompiledSite
  readonly now: number
  /** The working copy of the contact's snapshot; `out.snapshot` is the same object. */
  readonly snap: Snapshot
  readonly out: Decision
  /** Triggers not yet handed to workflows, oldest first. */
  readonly queue: Trigger[]
  /** Workflow runs so far, against MAX_RUNS. */
  runs: number
  /** Content ids shown, each once a decision. */
  readonly shown: Set<string>
  /** Counters that moved, each named once. */
  readonly counters: Set<string>
  /** Passes so far ("workflow\0node\0branch"), each once. */
  readonly passes: Set<string>
  /** The workflow that showed interruptive content (a popup, a slide-in) on this request, if one did. */
  interrupted?: string
  /** The visitor's device on this request, when the edge worked it out. */
  readonly device?: DeviceClass
  /** The browser's language, as the latest page visit of the request said. */
  language?: string
  /** While a run may have to be undone: how to undo what it has changed so far, in order. */
  journal?: Array<() => void>
}

/** What the request says besides its events: the visitor's device. */
export interface RequestContext {
  device?: DeviceClass
}

/**
 * Applies `events` to a copy of `snapshot` at `now`.
 *
 * @example
 * const { content, snapshot: next } = decide(site, snapshot, [{ activity: { id, type: 'page_visit', at: now, url } }], now)
 */
export function decide(site: CompiledSite, snapshot: Snapshot, events: readonly IncomingEvent[], now: number, context: RequestContext = {}): Decision {
  const state = startDecision(site, snapshot, now, context)
  events.forEach((e, i) => {
    const change = applyEvent(state, e)
    state.queue.push({ kind: 'activity', activity: e.activity })
    // The first pass looks at every dynamic segment: time has passed and the site's segments may have
    // changed since the snapshot was made. `now` is one instant for the whole decision, so later passes
    // look only at what a change reaches.
    reevaluate(state, i === 0 ? { everything: true } : change)
    drain(state)
  })
  state.out.counters = [...state.counters]
  state.out.passes = [...state.passes].map((key) => key.split('\u0000') as [string, string, string])
  return state.out
}

/** A decision about to start, over a copy of `snapshot`. */
export function startDecision(site: CompiledSite, snapshot: Snapshot, now: number, context: RequestContext = {}): DecisionState {
  // Aggregates and counter tuples are replaced, never changed in place, so copying the maps suffices.
  const snap: Snapshot = { ...snapshot, f: { ...snapshot.f }, m: { ...snapshot.m }, a: { ...snapshot.a }, x: [...snapshot.x], k: { ...snapshot.k } }
  // Attention is replaced, never changed in place: the copy shares its arrays until then.
  const out: Decision = { snapshot: snap, content: [], activities: [], fields: {}, statics: [], counters: [], passes: [], entered: [], left: [] }
  return { site, now, snap, out, queue: [], runs: 0, shown: new Set(), counters: new Set(), passes: new Set(), device: context.device }
}

/**
 * Applies one event to the snapshot: what an identify sets, the time the contact was last seen, and the
 * activity folded into the aggregates that select it. Returns what moved, for `reevaluate`.
 */
export function applyEvent(state: DecisionState, e: IncomingEvent): InputChange {
  const fields = new Set<string>()
  for (const [key, value] of identifiedFields(e)) if (setField(state, key, value)) fields.add(key)
  const seen = typeof state.snap.f.lastSeenAt === 'number' ? state.snap.f.lastSeenAt : -Infinity
  attend(state, e.activity, seen)
  if (e.activity.at > seen && setField(state, 'lastSeenAt', e.activity.at)) fields.add('lastSeenAt')
  state.out.activities.push(withVariants(state, e.activity))
  return { fields, matchers: foldActivity(state.site, state.snap, e.activity, state.now) }
}

/**
 * A content event of a workflow with A/B tests, with the variant of each test the contact takes (the same
 * every time: worker/workflows/assign.ts), so reports credit what was shown, clicked and closed to it.
 */
function withVariants(state: DecisionState, a: Activity): Activity {
  const workflow = a.type === 'content' ? a.props?.workflow : undefined
  if (typeof workflow !== 'string') return a
  const w = state.site.workflows.find((x) => x.id === workflow)
  if (!w) return a
  const variants: Record<string, string> = {}
  for (const [id, node] of Object.entries(w.graph.nodes)) {
    if (node.type === 'abTest') variants[id] = assignVariant(node.variants, stickyPoint(w.id, id, state.snap.id), node.winner).id
  }
  return Object.keys(variants).length === 0 ? a : { ...a, props: { ...a.props, variants } }
}

/**
 * A new session after 30 minutes without an activity; content the visitor closed, remembered; and on a
 * conversion, the "never again after they converted" content first shown within the attribution window
 * before it, remembered as converted after.
 */
function attend(state: DecisionState, a: Activity, lastSeen: number): void {
  const z = state.snap.z ?? {}
  const newSession = z.s === undefined || a.at - lastSeen > SESSION_GAP_MS
  if (newSession) state.snap.z = { ...state.snap.z, s: a.at, p: 0 }
  if (a.type === 'page_visit') {
    state.snap.z = { ...state.snap.z, p: (state.snap.z?.p ?? 0) + 1 }
    if (typeof a.props?.language === 'string') state.language = a.props.language
  }
  if (a.type === 'content' && a.name === 'submitted' && a.contentId && !z.u?.includes(a.contentId)) {
    state.snap.z = { ...state.snap.z, u: [...(z.u ?? []), a.contentId].slice(-MAX_CLOSED) }
  }
  if (a.type === 'content' && a.name === 'closed' && a.contentId && !z.c?.includes(a.contentId)) {
    state.snap.z = { ...state.snap.z, c: [...(z.c ?? []), a.contentId].slice(-MAX_CLOSED) }
  }
  if (z.h && isConversion(state.site, a)) {
    const window = attributionMs(state.site)
    const led = Object.entries(z.h).filter(([, shown]) => a.at >= shown && a.at < shown + window).map(([id]) => id)
    if (led.length === 0) return
    const h = { ...z.h }
    for (const id of led) delete h[id]
    const { h: _h, ...rest } = state.snap.z ?? {}
    state.snap.z = { ...rest, ...(Object.keys(h).length > 0 ? { h } : {}), v: [...new Set([...(z.v ?? []), ...led])].slice(-MAX_CLOSED) }
  }
}

/** Content closed (or converted after) a contact is remembered for, the latest kept. */
const MAX_CLOSED = 100

/** Whether an activity is the site's conversion event: a purchase, or the custom event the owner chose. */
function isConversion(site: CompiledSite, a: Activity): boolean {
  const chosen = site.config.site.conversion
  return chosen ? a.type === 'custom' && a.name === chosen.name : a.type === 'purchase'
}

const attributionMs = (site: CompiledSite) => (site.config.site.attributionDays ?? 7) * DAY_MS

/** Whether the site's caps leave no room for more interruptive content for this contact now. */
function overCap(state: DecisionState): boolean {
  const cap = state.site.config.site.fatigue
  if (!cap) return false
  const shows = state.snap.z?.i ?? []
  if (cap.perDay !== undefined && shows.filter((t) => t > state.now - DAY_MS).length >= cap.perDay) return true
  const session = state.snap.z?.s
  return cap.perSession !== undefined && shows.filter((t) => session === undefined || t >= session).length >= cap.perSession
}

const DAY_MS = 86_400_000
/** Interruptive shows a contact's last day is remembered by, the latest kept (past any sensible cap). */
const MAX_SHOWS = 50

/** The fields an identify event sets, email and externalId first; null clears one. */
function identifiedFields(e: IncomingEvent): Array<[string, Scalar | null]> {
  const id = e.identify
  if (!id) return []
  const out: Array<[string, Scalar | null]> = []
  if (id.email !== undefined) out.push(['email', id.email])
  if (id.externalId !== undefined) out.push(['externalId', id.externalId])
  return [...out, ...Object.entries(id.fields ?? {})]
}

/** Sets a field, or clears it with null, and reports the change; returns whether the value moved. */
function setField(state: DecisionState, key: string, value: Scalar | null): boolean {
  const f = state.snap.f
  if (value === null ? !Object.hasOwn(f, key) : f[key] === value) return false
  remember(state, f, key)
  remember(state, state.out.fields, key)
  if (value === null) delete f[key]
  else f[key] = value
  state.out.fields[key] = value
  return true
}

/**
 * Re-evaluates the dynamic segments `change` can reach, in computing order, so that a segment sees the
 * moves of the segments it reads; each move is reported and queued as a trigger.
 */
export function reevaluate(state: DecisionState, change: InputChange): void {
  const reached = reach(state.site, change)
  if (reached.length === 0) return
  // The facts read the working snapshot, so memberships moved earlier in this pass are seen.
  const facts = snapshotFacts(state.snap, state.site)
  for (const s of reached) {
    const member = evaluate(s.node, facts, state.now)
    if (member !== Object.hasOwn(state.snap.m, s.id)) setMembership(state, s.id, member)
  }
}

/** Adds a static segment's membership, or removes it, as a workflow action does; what reads it follows. */
export function changeStatic(state: DecisionState, segment: string, add: boolean): void {
  if (Object.hasOwn(state.snap.m, segment) === add) return
  state.out.statics.push([segment, add ? 'add' : 'remove'])
  setMembership(state, segment, add)
  reevaluate(state, { segments: [segment] })
}

function setMembership(state: DecisionState, segment: string, member: boolean): void {
  remember(state, state.snap.m, segment)
  if (member) state.snap.m[segment] = state.now
  else delete state.snap.m[segment]
  ;(member ? state.out.entered : state.out.left).push(segment)
  state.queue.push({ kind: 'segment', segment, entered: member })
}

/**
 * Hands the queued triggers, oldest first, to the workflows they start and the contact may enter, until
 * none are left or the request has used its MAX_RUNS runs; then the decision is cut short, naming the
 * workflow whose run was refused.
 */
export function drain(state: DecisionState): void {
  while (state.queue.length > 0) {
    const t = state.queue.shift()!
    for (const w of state.site.workflows) {
      if (!triggers(w, t, state.now, state.device) || !mayEnter(w, state.snap)) continue
      // Outside its schedule a workflow does nothing: decided here, on each request, with no cron.
      if (w.graph.start.schedule && !inSchedule(w.graph.start.schedule, state.now, timeZoneOf(state.site))) continue
      if (state.runs >= MAX_RUNS) {
        state.out.cutShort ??= { workflow: w.id }
        return
      }
      state.runs++
      runWorkflow(state, w)
    }
  }
}

/**
 * Runs a workflow from its entry, node by node, until a node leads nowhere or its limitation stops the run.
 * Workflows run in the owner's order (their priority): once one has shown interruptive content on this
 * request, a later one that would show some too is undone — what its run changed, its counters included —
 * as if it had not run.
 */
export function runWorkflow(state: DecisionState, w: CompiledWorkflow): void {
  const facts = snapshotFacts(state.snap, state.site)
  const capped = overCap(state)
  const before = state.interrupted !== undefined || capped ? checkpoint(state) : undefined
  pass(state, w.id, '', '')
  let id: string | undefined = w.graph.entry
  for (let step = 0; id !== undefined && step < MAX_STEPS; step++) {
    const node: WorkflowNode | undefined = w.graph.nodes[id]
    if (!node) break
    pass(state, w.id, id, '')
    // Content that cannot show on this request (its schedule, its page views, "never again") does not
    // spend its node's limitation: it shows on a later request.
    const blocked = node.type === 'showContent' && !showable(state, node.content)
    if (node.limitation && !blocked && !passLimitation(state, `${w.id}/${id}`, node.limitation)) break
    // Interruptive content past the site's caps, or after another workflow's on this request, is not shown,
    // and the run is undone.
    if (node.type === 'showContent' && !blocked && before && (capped || state.interrupted !== w.id) && interruptive(state.site.config.content, node.content)) {
      restore(state, before)
      return
    }
    const [branch, next] = act(state, w, id, node, facts, blocked)
    pass(state, w.id, id, branch)
    id = next
  }
  state.journal = undefined
}

/** The site's time zone, UTC for a config published before sites had one. */
const timeZoneOf = (site: CompiledSite) => site.config.site.timeZone ?? 'UTC'

/** Popups and slide-ins interrupt the visitor; bars and inline content do not, unless the owner says so. */
function interruptive(content: CompiledSite['config']['content'], id: string): boolean {
  const payload = ownValue(content, id)
  if (!payload) return false
  return payload.interruptive ?? (payload.format === 'popup' || payload.format === 'slide-in')
}

/**
 * What a workflow's run has changed, so that it can be undone: the lengths of what it appends to, and a
 * journal of each value it set, written only while a run may have to be undone (see `runWorkflow`), so a
 * run that changes little costs little to keep.
 */
interface Checkpoint {
  lengths: [content: number, statics: number, entered: number, left: number, queue: number]
  journal: Array<() => void>
}

function checkpoint(state: DecisionState): Checkpoint {
  const { out } = state
  const c: Checkpoint = { lengths: [out.content.length, out.statics.length, out.entered.length, out.left.length, state.queue.length], journal: [] }
  state.journal = c.journal
  return c
}

function restore(state: DecisionState, c: Checkpoint): void {
  const { out } = state
  for (let i = c.journal.length - 1; i >= 0; i--) c.journal[i]()
  state.journal = undefined
  out.content.length = c.lengths[0]
  out.statics.length = c.lengths[1]
  out.entered.length = c.lengths[2]
  out.left.length = c.lengths[3]
  state.queue.length = c.lengths[4]
}

/** Notes how to put back `key` of `record` as it is now, when a run that may be undone is about to change it. */
function remember<T>(state: DecisionState, record: Record<string, T>, key: string): void {
  if (!state.journal) return
  const had = Object.hasOwn(record, key)
  const old = record[key]
  state.journal.push(() => {
    if (had) record[key] = old
    else delete record[key]
  })
}

/** Notes how to take `item` back out of `set`, when a run that may be undone adds it. */
function rememberAdded(state: DecisionState, set: Set<string>, item: string): void {
  if (state.journal && !set.has(item)) state.journal.push(() => set.delete(item))
}

/** Whether a node's limitation lets this run through; one that does counts the run against it. */
function passLimitation(state: DecisionState, key: string, limitation: NodeLimitation): boolean {
  const [count, last] = state.snap.k[key] ?? [0, undefined]
  const cooldown = limitation.cooldown ? parseDuration(limitation.cooldown) ?? 0 : 0
  if (limitation.maxPerContact !== undefined && count >= limitation.maxPerContact) return false
  if (last !== undefined && state.now - last < cooldown) return false
  countRun(state, key)
  return true
}

/** Notes that a run reached a node, or left it by a branch (see `Decision.passes`). */
function pass(state: DecisionState, workflow: string, node: string, branch: string): void {
  const key = `${workflow}\u0000${node}\u0000${branch}`
  rememberAdded(state, state.passes, key)
  state.passes.add(key)
}

/** A condition node's branch, and where it leads. */
const yesNo = (node: { yes?: string; no?: string }, yes: boolean): [string, string | undefined] => (yes ? ['yes', node.yes] : ['no', node.no])

/**
 * Does what node `id` of `w` does; returns the branch it leaves by and the node that comes next, if any.
 * `blocked`: a Show Content node whose content cannot show on this request (see `showable`).
 */
function act(state: DecisionState, w: CompiledWorkflow, id: string, node: WorkflowNode, facts: ContactFacts, blocked: boolean): [branch: string, next: string | undefined] {
  switch (node.type) {
    case 'isInSegment':
      return yesNo(node, Object.hasOwn(state.snap.m, node.segment))
    case 'checkField':
    case 'hasField':
      return yesNo(node, evaluate(w.fieldTests.get(id)!, facts, state.now))
    case 'showContent':
      if (!blocked) show(state, w, node.content)
      return ['next', node.next]
    case 'addToSegment':
    case 'removeFromSegment':
      if (state.site.segmentTypes.get(node.segment) === 'static') changeStatic(state, node.segment, node.type === 'addToSegment')
      return ['next', node.next]
    case 'setField':
      if (setField(state, node.field, node.value)) reevaluate(state, { fields: [node.field] })
      return ['next', node.next]
    case 'abTest': {
      const variant = assignVariant(node.variants, stickyPoint(w.id, id, state.snap.id), node.winner)
      // Each contact a variant reaches is counted once a run, as a node's limitation counts: the report's
      // "exposed". A test's winner, once picked, is no longer a test: nothing is counted.
      if (node.winner === undefined) countRun(state, `${w.id}/${id}:${variant.id}`)
      return [variant.id, variant.next]
    }
    case 'split': {
      const branch = assignVariant(node.branches, stickyPoint(w.id, id, state.snap.id))
      return [branch.id, branch.next]
    }
    case 'checkDevice':
      return yesNo(node, state.device !== undefined && node.devices.includes(state.device))
  }
}

/** Counts a run against a counter, as a node's limitation does when it lets one through. */
function countRun(state: DecisionState, key: string): void {
  const [count] = state.snap.k[key] ?? [0]
  remember(state, state.snap.k, key)
  rememberAdded(state, state.counters, key)
  state.snap.k[key] = [count + 1, state.now]
  state.counters.add(key)
}

/**
 * Whether content may show on this request: it exists and has not shown yet on it, its schedule is open,
 * the visitor has not closed it, converted or submitted its form where the content says "never again",
 * and has seen the page views in this session it waits for.
 */
function showable(state: DecisionState, content: string): boolean {
  const payload = ownValue(state.site.config.content, content)
  if (!payload || state.shown.has(payload.id)) return false
  if (payload.schedule && !inSchedule(payload.schedule as Schedule, state.now, timeZoneOf(state.site))) return false
  const z = state.snap.z
  if (payload.neverAfterClosed && z?.c?.includes(payload.id)) return false
  if (payload.neverAfterConverted && z?.v?.includes(payload.id)) return false
  if (payload.neverAfterSubmitted && z?.u?.includes(payload.id)) return false
  return payload.display.on !== 'pageViews' || (z?.p ?? 0) >= payload.display.count
}

/** Shows content `showable` let through: sent to the browser, made for the visitor, counted against the caps. */
function show(state: DecisionState, w: CompiledWorkflow, content: string): void {
  const payload = ownValue(state.site.config.content, content)!
  rememberAdded(state, state.shown, payload.id)
  state.shown.add(payload.id)
  const { schedule: _s, neverAfterClosed: _c, neverAfterConverted: _v, neverAfterSubmitted: _u, versions: _l, defaultLanguage: _d, ...sent } = personalize(payload, {
    language: typeof state.snap.f.language === 'string' ? state.snap.f.language : state.language,
    fields: state.snap.f,
    sessionStart: state.snap.z?.s,
    now: state.now,
  })
  state.out.content.push({ ...sent, workflow: w.id })
  const interrupts = interruptive(state.site.config.content, content)
  if (interrupts || payload.neverAfterConverted) remember(state, state.snap as unknown as Record<string, unknown>, 'z')
  if (interrupts) {
    state.interrupted ??= w.id
    // Counted against the site's caps: the shows of the last day, this one with them.
    const shows = (state.snap.z?.i ?? []).filter((t) => t > state.now - DAY_MS)
    state.snap.z = { ...state.snap.z, i: [...shows, state.now].slice(-MAX_SHOWS) }
  }
  if (payload.neverAfterConverted) firstShown(state, payload.id)
}

/**
 * Remembers when "never again after they converted" content was first shown, for a conversion to find:
 * the first show within the attribution window (a show after the window has passed starts a new one).
 */
function firstShown(state: DecisionState, id: string): void {
  const window = attributionMs(state.site)
  const h = Object.fromEntries(Object.entries(state.snap.z?.h ?? {}).filter(([, at]) => at + window > state.now))
  h[id] ??= state.now
  // The latest first shows are kept, past any sensible number of such content.
  const kept = Object.entries(h).sort((a, b) => a[1] - b[1]).slice(-MAX_CLOSED)
  state.snap.z = { ...state.snap.z, h: Object.fromEntries(kept) }
}

function triggers(w: CompiledWorkflow, t: Trigger, now: number, device: DeviceClass | undefined): boolean {
  const spec = w.graph.start.trigger
  if (t.kind === 'segment') {
    return (spec.type === 'segmentEntered' && t.entered && spec.segment === t.segment) || (spec.type === 'segmentLeft' && !t.entered && spec.segment === t.segment)
  }
  const a = t.activity
  switch (spec.type) {
    case 'page_visit':
      if (a.type !== 'page_visit') return false
      // A device filter lets through only the devices it names; a device not worked out passes none.
      if (spec.devices && (device === undefined || !spec.devices.includes(device))) return false
      if (w.urlTest && !applyTest(w.urlTest, a.url, now)) return false
      return !w.excludeTests.some((x) => applyTest(x, a.url, now))
    case 'purchase':
    case 'identify':
      return a.type === spec.type
    case 'custom':
      return a.type === 'custom' && a.name === spec.name
    case 'contentSubmitted':
      return a.type === 'content' && a.name === 'submitted' && (spec.content === undefined || a.contentId === spec.content)
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
