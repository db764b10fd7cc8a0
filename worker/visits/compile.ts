/**
 * A site's config, as kept in KV, and its compiled form held in isolate memory: conditions prepared,
 * dynamic segments in computing order with what each depends on, and the activity "matchers" whose
 * aggregates a contact's snapshot must carry.
 */
import { type StoredContent } from '../../shared/content'
import { type CustomFieldDefinition, FieldCatalog } from '../conditions/fields'
import { type PreparedActivity, type PreparedNode, type Test, prepare, prepareTest } from '../conditions/prepare'
import { type ActivityClause, type ActivityType, type Condition, fieldRefs, segmentRefs } from '../conditions/types'
import { type SiteLimits, type SiteRetention } from '../data/sites'
import { dynamicOrder } from '../segments/graph'
import { type WorkflowGraph } from '../workflows/types'

/** What KV holds for a site: everything a decision needs, as plain JSON. */
export interface SiteConfig {
  /** When it was built (epoch ms); a newer config replaces an older one in every isolate. */
  version: number
  site: {
    id: string
    key: string
    allowedOrigins: string[]
    browserFields: string[]
    fields: CustomFieldDefinition[]
    /** Checks the signatures of identifies; KV is private to the account that runs Segue. */
    identitySecret: string
    trustUnsignedIdentify: boolean
    /** Absent from configs published before sites had limits: DEFAULT_LIMITS then. */
    limits?: SiteLimits
    /** Absent from configs published before sites had a retention: DEFAULT_RETENTION_DAYS then. */
    retention?: SiteRetention
    /** The data shards its contacts live on; absent from configs published before shards: the control database. */
    shards?: string[]
    /** Set while the site moves to other shards (its visits then wait in the queue). */
    movingTo?: string[]
    /** The IANA time zone schedules are read in; absent from older configs: UTC. */
    timeZone?: string
    /** At most this many pieces of interruptive content a session, and a day (24 hours); no cap when absent. */
    fatigue?: { perSession?: number; perDay?: number }
    /** What counts as a conversion when not a purchase: a custom event of this name. */
    conversion?: { type: 'custom'; name: string }
    /** Days after content was first shown that a conversion counts for it; absent from older configs: 7. */
    attributionDays?: number
  }
  segments: Array<{ id: string; type: 'static' | 'dynamic'; conditions: Condition | null }>
  /** Active workflows, in the order they run. */
  workflows: Array<{ id: string; graph: WorkflowGraph }>
  content: Record<string, StoredContent>
}

export interface CompiledSegment {
  id: string
  node: PreparedNode
  fields: Set<string>
  matchers: Set<string>
  segments: Set<string>
  /** Its verdict can change with nothing but time passing (windows, withinLast, olderThan). */
  timeDependent: boolean
}

/** Activities of one type, name and `where`: the unit a snapshot aggregates. */
export interface Matcher {
  key: string
  activity: PreparedActivity
  /** The longest window any clause asks of it: entries that recent are kept one by one. */
  windowMs?: number
}

export interface CompiledWorkflow {
  id: string
  graph: WorkflowGraph
  urlTest?: Test
  excludeTests: Test[]
  /** checkField and hasField nodes, prepared as field clauses. */
  fieldTests: Map<string, PreparedNode>
}

export interface CompiledSite {
  config: SiteConfig
  catalog: FieldCatalog
  dynamic: CompiledSegment[]
  segmentTypes: Map<string, 'static' | 'dynamic'>
  matchers: Map<string, Matcher>
  matcherOf: Map<PreparedActivity, string>
  workflows: CompiledWorkflow[]
  /** Who reads what: for each input of a condition, the dynamic segments that read it directly. */
  readers: Readers
}

/** Positions in `CompiledSite.dynamic` of the segments whose conditions read an input directly. */
interface Readers {
  field: Map<string, number[]>
  matcher: Map<string, number[]>
  activity: Map<ActivityType, number[]>
  segment: Map<string, number[]>
  time: number[]
}

export function compileSite(config: SiteConfig): CompiledSite {
  const catalog = new FieldCatalog(config.site.fields)
  const matchers = new Map<string, Matcher>()
  const matcherOf = new Map<PreparedActivity, string>()
  const dynamic = dynamicOrder(config.segments).map((s): CompiledSegment => {
    const node = prepare(s.conditions!, catalog)
    const keys = new Set<string>()
    for (const [clause, prepared] of activitiesOf(node)) {
      const key = matcherKey(clause)
      keys.add(key)
      matcherOf.set(prepared, key)
      const known = matchers.get(key)
      const windows = [known?.windowMs, prepared.windowMs].filter((w): w is number => w !== undefined)
      matchers.set(key, {
        key,
        activity: known?.activity ?? { ...prepared, windowMs: undefined, measure: 'count', test: { t: 'exists' } },
        windowMs: windows.length > 0 ? Math.max(...windows) : undefined,
      })
    }
    return { id: s.id, node, fields: fieldRefs(s.conditions!), matchers: keys, segments: segmentRefs(s.conditions!), timeDependent: dependsOnTime(node) }
  })
  const workflows = config.workflows.map((w): CompiledWorkflow => {
    const t = w.graph.start.trigger
    const fieldTests = new Map<string, PreparedNode>()
    for (const [id, n] of Object.entries(w.graph.nodes)) {
      if (n.type === 'checkField') fieldTests.set(id, prepare({ field: n.field, op: n.op, value: n.value }, catalog))
      if (n.type === 'hasField') fieldTests.set(id, prepare({ field: n.field, op: 'exists' }, catalog))
    }
    return {
      id: w.id,
      graph: w.graph,
      urlTest: t.type === 'page_visit' && t.url ? prepareTest('text', t.url.op, t.url.value, 1) : undefined,
      excludeTests: t.type === 'page_visit' ? (t.exclude ?? []).map((x) => prepareTest('text', x.op, x.value, 1)) : [],
      fieldTests,
    }
  })
  return { config, catalog, dynamic, segmentTypes: new Map(config.segments.map((s) => [s.id, s.type])), matchers, matcherOf, workflows, readers: readersOf(dynamic, matchers) }
}

function readersOf(dynamic: readonly CompiledSegment[], matchers: ReadonlyMap<string, Matcher>): Readers {
  const readers: Readers = { field: new Map(), matcher: new Map(), activity: new Map(), segment: new Map(), time: [] }
  const add = <K>(index: Map<K, number[]>, key: K, at: number) => {
    const list = index.get(key)
    if (!list) index.set(key, [at])
    else if (list[list.length - 1] !== at) list.push(at)
  }
  dynamic.forEach((s, at) => {
    for (const f of s.fields) add(readers.field, f, at)
    for (const key of s.matchers) {
      add(readers.matcher, key, at)
      add(readers.activity, matchers.get(key)!.activity.type, at)
    }
    for (const id of s.segments) add(readers.segment, id, at)
    if (s.timeDependent) readers.time.push(at)
  })
  return readers
}

/**
 * What moved among the inputs of a contact's conditions; `reach` says which dynamic segments that can
 * move. Each part is optional, and a change is the union of its parts.
 */
export interface InputChange {
  /** Fields whose value changed (email, externalId and lastSeenAt among them). */
  fields?: Iterable<string>
  /** Types of activities that arrived: every aggregate of those types, and the time last seen, may have moved. */
  activities?: Iterable<ActivityType>
  /** Aggregates (matcher keys) that moved: finer than `activities`, when they are known. */
  matchers?: Iterable<string>
  /** Segments, static or dynamic, whose membership moved. */
  segments?: Iterable<string>
  /** Time passed: every verdict that reads it (windows, withinLast, olderThan) may have moved. */
  time?: boolean
  /** Anything may have moved: a merge, or a snapshot made under an older config. */
  everything?: boolean
}

/**
 * The dynamic segments `change` can move, in computing order: those that read what moved, and every
 * segment that reads one of these, directly or through others. The one place that knows which inputs
 * a condition reads; a new kind of clause is taught here and in `readersOf`.
 *
 * @example
 * for (const s of reach(site, { fields: ['plan'] })) evaluate(s.node, facts, now)
 */
export function reach(site: CompiledSite, change: InputChange): readonly CompiledSegment[] {
  if (change.everything) return site.dynamic
  const { readers } = site
  const reached = new Set<number>()
  const pending: number[] = []
  const mark = (positions: readonly number[] = []) => {
    for (const at of positions) {
      if (reached.has(at)) continue
      reached.add(at)
      pending.push(at)
    }
  }
  for (const f of change.fields ?? []) mark(readers.field.get(f))
  for (const key of change.matchers ?? []) mark(readers.matcher.get(key))
  let activities = false
  for (const type of change.activities ?? []) {
    activities = true
    mark(readers.activity.get(type))
  }
  // An activity is the contact being seen: lastSeenAt moves with it (unless a later one was seen before).
  if (activities) mark(readers.field.get('lastSeenAt'))
  for (const id of change.segments ?? []) mark(readers.segment.get(id))
  if (change.time) mark(readers.time)
  while (pending.length > 0) mark(readers.segment.get(site.dynamic[pending.pop()!].id))
  return [...reached].sort((a, b) => a - b).map((at) => site.dynamic[at])
}

/** The config entries of the segments `change` reaches, in computing order: what a recompute in SQL takes. */
export function reachedConfigSegments(site: CompiledSite, change: InputChange): SiteConfig['segments'] {
  const byId = new Map(site.config.segments.map((s) => [s.id, s]))
  return reach(site, change).map((s) => byId.get(s.id)!)
}

function activitiesOf(node: PreparedNode, into: Array<[ActivityClause, PreparedActivity]> = []): Array<[ActivityClause, PreparedActivity]> {
  if (node.node === 'group') for (const c of node.children) activitiesOf(c, into)
  if (node.node === 'activity') into.push([node.clause, node.activity])
  return into
}

function dependsOnTime(node: PreparedNode): boolean {
  switch (node.node) {
    case 'group':
      return node.children.some(dependsOnTime)
    case 'field':
      return isRelative(node.test)
    case 'activity':
      return node.activity.windowMs !== undefined || isRelative(node.activity.test)
    default:
      return false
  }
}

function isRelative(t: Test): boolean {
  return t.t === 'range' && ((t.lo !== undefined && 'ago' in t.lo) || (t.hi !== undefined && 'ago' in t.hi))
}

/** A short, stable key for the activities a clause selects (its type, name and where), whatever its measure. */
export function matcherKey(c: ActivityClause): string {
  const where = c.where === undefined ? [] : Array.isArray(c.where) ? c.where : [c.where]
  return hash(stableJson({ a: c.activity, n: c.name ?? null, w: where }))
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

/** cyrb53: a fast 53-bit string hash, written in base 36. */
function hash(s: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}

