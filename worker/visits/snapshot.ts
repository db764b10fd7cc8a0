/**
 * A contact's snapshot: what the edge needs to decide for it without D1. Fields, memberships, the
 * aggregates of the activities its site's conditions count, and the counters behind node limitations.
 * Kept in KV (rewritten from D1 by the queue consumer) and sealed into the state token of each answer.
 * Short keys, because it travels with every request.
 */
import { type ActivityStats, type Activity, type ContactFacts, accumulate, ownValue, selects } from '../conditions/evaluate'
import { type Scalar } from '../conditions/types'
import { type CompiledSite, type Matcher } from './compile'

/** Activities one matcher selected: totals, and the recent ones one by one when a window asks for them. */
export interface Aggregate {
  /** count, sum of amounts (thousandths), how many had an amount, first and last time */
  n: number
  s: number
  c: number
  f?: number
  l?: number
  /** [at, amountMilli | null] of the activities inside the matcher's window, oldest first */
  t?: Array<[number, number | null]>
}

export interface Snapshot {
  /** Version: the time of the state (epoch ms); the newer of token and KV wins. */
  v: number
  id: string
  /** Field values as the evaluator reads them, with email, externalId, createdAt and lastSeenAt. */
  f: Record<string, Scalar>
  /** Memberships: segment id → since. */
  m: Record<string, number>
  /** Aggregates by matcher key; a key in `x` but not here has none yet. */
  a: Record<string, Aggregate>
  /** The matcher keys the aggregates cover. */
  x: string[]
  /** Node limitation counters: "workflow/node" → [runs, last run]. */
  k: Record<string, [number, number]>
  /** What the contact stored today: [UTC day number, bytes of its events], against the site's daily cap. */
  q?: [day: number, bytes: number]
  /** What the site's fatigue caps and content options read (see `Attention`). */
  z?: Attention
}

/**
 * How much a contact has been interrupted: when its current session started (30 minutes without an
 * activity ends one), when it was shown interruptive content in the last 24 hours, and the content it
 * closed. Kept by the edge and carried by visit messages, since D1 keeps none of it as such.
 */
export interface Attention {
  s?: number
  i?: number[]
  c?: string[]
  /**
   * Content marked "never again after they converted": when each was first shown within its attribution
   * window (content id → time), and (`v`) the content after which the contact converted.
   */
  h?: Record<string, number>
  v?: string[]
  /** Page views in the current session; content whose form the contact submitted. */
  p?: number
  u?: string[]
}

/** How long without an activity ends a session. */
export const SESSION_GAP_MS = 30 * 60_000
const DAY = 86_400_000

/**
 * Two contacts' attention as one: the later session, the shows of the last day from both, every content
 * closed or converted after, and each content's earlier first show.
 */
export function mergeAttention(a: Attention | undefined, b: Attention | undefined, now: number): Attention | undefined {
  if (!a || !b) return a ?? b
  const i = [...new Set([...(a.i ?? []), ...(b.i ?? [])])].filter((t) => t > now - DAY).sort((x, y) => x - y)
  const c = [...new Set([...(a.c ?? []), ...(b.c ?? [])])]
  const v = [...new Set([...(a.v ?? []), ...(b.v ?? [])])]
  const u = [...new Set([...(a.u ?? []), ...(b.u ?? [])])]
  // Page views of the later session, which is the one going on.
  const p = (a.s ?? 0) >= (b.s ?? 0) ? a.p : b.p
  const h: Record<string, number> = { ...b.h }
  for (const [id, at] of Object.entries(a.h ?? {})) h[id] = Math.min(at, h[id] ?? at)
  const s = Math.max(a.s ?? 0, b.s ?? 0)
  return {
    ...(s > 0 ? { s } : {}),
    ...(i.length > 0 ? { i } : {}),
    ...(c.length > 0 ? { c } : {}),
    ...(Object.keys(h).length > 0 ? { h } : {}),
    ...(v.length > 0 ? { v } : {}),
    ...(u.length > 0 ? { u } : {}),
    ...(p !== undefined ? { p } : {}),
  }
}

/** Windowed entries kept a matcher; past this, the oldest in the window are dropped. */
export const MAX_ENTRIES = 500

export function emptySnapshot(site: CompiledSite, id: string, now: number): Snapshot {
  return { v: now, id, f: { createdAt: now }, m: {}, a: {}, x: [...site.matchers.keys()], k: {} }
}

/** Whether the snapshot carries an aggregate for every matcher the site's conditions use now. */
export function coversSite(snap: Snapshot, site: CompiledSite): boolean {
  const covered = new Set(snap.x)
  for (const key of site.matchers.keys()) if (!covered.has(key)) return false
  return true
}

/** Adds one activity to the aggregates of the matchers it satisfies; returns their keys. */
export function foldActivity(site: CompiledSite, snap: Snapshot, e: Activity, now: number): Set<string> {
  const hit = new Set<string>()
  for (const m of site.matchers.values()) {
    if (!selects(m.activity, e, now)) continue
    hit.add(m.key)
    snap.a[m.key] = addTo(snap.a[m.key], m, e, now)
  }
  return hit
}

function addTo(agg: Aggregate | undefined, m: Matcher, e: Activity, now: number): Aggregate {
  const totals = accumulate(agg ? { count: agg.n, sumMilli: agg.s, amounts: agg.c, first: agg.f, last: agg.l } : { count: 0, sumMilli: 0, amounts: 0 }, e.at, e.amountMilli)
  const a: Aggregate = { n: totals.count, s: totals.sumMilli, c: totals.amounts, f: totals.first, l: totals.last }
  if (m.windowMs !== undefined) {
    const t = agg?.t ?? []
    const entry: [number, number | null] = [e.at, e.amountMilli ?? null]
    // Activities arrive in time order, so appending keeps the entries sorted; sort only when one does not.
    a.t = trim(t.length === 0 || t[t.length - 1][0] <= e.at ? [...t, entry] : [...t, entry].sort((x, y) => x[0] - y[0]), m.windowMs, now)
  }
  return a
}

/** Sorted entries without those older than the window, and at most MAX_ENTRIES of the newest. */
function trim(sorted: Array<[number, number | null]>, windowMs: number, now: number): Array<[number, number | null]> {
  const from = Math.max(firstAtOrAfter(sorted, now - windowMs), sorted.length - MAX_ENTRIES)
  return from > 0 ? sorted.slice(from) : sorted
}

/** Index of the first entry at or after `at` in sorted entries (binary search). */
function firstAtOrAfter(sorted: ReadonlyArray<[number, number | null]>, at: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid][0] < at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Aggregates of a whole history, for every matcher of the site. */
export function aggregateHistory(site: CompiledSite, events: readonly Activity[], now: number): Pick<Snapshot, 'a' | 'x'> {
  const snap = { a: {} as Record<string, Aggregate> }
  for (const e of [...events].sort((x, y) => x.at - y.at)) foldActivity(site, snap as Snapshot, e, now)
  return { a: snap.a, x: [...site.matchers.keys()] }
}

/** The evaluator's view of a snapshot. */
export function snapshotFacts(snap: Snapshot, site: CompiledSite): ContactFacts {
  return {
    field: (key) => ownValue(snap.f, key),
    inSegment: (id) => Object.hasOwn(snap.m, id),
    stats: (activity, now): ActivityStats => {
      const key = site.matcherOf.get(activity)
      const agg = key === undefined ? undefined : snap.a[key]
      if (!agg) return { count: 0, sumMilli: 0, amounts: 0 }
      if (activity.windowMs === undefined) return { count: agg.n, sumMilli: agg.s, amounts: agg.c, first: agg.f, last: agg.l }
      const t = agg.t ?? []
      const s: ActivityStats = { count: 0, sumMilli: 0, amounts: 0 }
      for (let i = firstAtOrAfter(t, now - activity.windowMs); i < t.length; i++) accumulate(s, t[i][0], t[i][1])
      return s
    },
  }
}

/**
 * An anonymous contact's snapshot folded into the known contact it turned out to be: its activities,
 * its static memberships and its limitation counters carry over; the known contact's fields win.
 */
export function mergeSnapshots(site: CompiledSite, into: Snapshot, from: Snapshot, now: number): Snapshot {
  const f = { ...from.f, ...into.f }
  delete f.email
  delete f.externalId
  if (into.f.email !== undefined) f.email = into.f.email
  if (into.f.externalId !== undefined) f.externalId = into.f.externalId
  f.createdAt = Math.min(Number(into.f.createdAt ?? now), Number(from.f.createdAt ?? now))
  const seen = [into.f.lastSeenAt, from.f.lastSeenAt].filter((x): x is number => typeof x === 'number')
  if (seen.length > 0) f.lastSeenAt = Math.max(...seen)

  const m = { ...into.m }
  for (const [id, since] of Object.entries(from.m)) {
    if (site.segmentTypes.get(id) === 'static' && !Object.hasOwn(m, id)) m[id] = since
  }
  const a: Record<string, Aggregate> = {}
  for (const key of new Set([...Object.keys(into.a), ...Object.keys(from.a)])) {
    const x = into.a[key]
    const y = from.a[key]
    if (!x || !y) {
      a[key] = (x ?? y)!
      continue
    }
    const windowMs = site.matchers.get(key)?.windowMs
    const merged: Aggregate = { n: x.n + y.n, s: x.s + y.s, c: x.c + y.c, f: Math.min(x.f ?? Infinity, y.f ?? Infinity), l: Math.max(x.l ?? -Infinity, y.l ?? -Infinity) }
    if (windowMs !== undefined) merged.t = trim([...(x.t ?? []), ...(y.t ?? [])].sort((p, q) => p[0] - q[0]), windowMs, now)
    a[key] = merged
  }
  const k = { ...into.k }
  for (const [key, [runs, last]] of Object.entries(from.k)) {
    const mine = k[key]
    k[key] = mine ? [mine[0] + runs, Math.max(mine[1], last)] : [runs, last]
  }
  const covered = new Set(from.x)
  const merged: Snapshot = { v: Math.max(into.v, from.v), id: into.id, f, m, a, x: into.x.filter((key) => covered.has(key)), k }
  // What both stored today counts against the day's cap of the one they now are.
  const days = [into.q, from.q].filter((q): q is [number, number] => q !== undefined)
  const day = Math.max(...days.map(([d]) => d))
  if (days.length > 0) merged.q = [day, days.filter(([d]) => d === day).reduce((sum, [, bytes]) => sum + bytes, 0)]
  // The browser that signed in was interrupted as the visitor it was: the caps count both.
  const z = mergeAttention(into.z, from.z, now)
  if (z) merged.z = z
  return merged
}
