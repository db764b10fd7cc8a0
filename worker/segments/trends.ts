/**
 * A segment's trend and uses: its daily member count with the contacts that entered and left it each day,
 * summed over the site's shards, and the workflows and segments that read it.
 */
import { segmentRefs } from '../conditions/types'
import { allSegments } from '../data/segments'
import { siteData } from '../data/shards'
import { type Site } from '../data/sites'
import { type SegmentDay, segmentDays } from '../data/trends'
import { allWorkflows } from '../data/workflows'
import { notFound } from '../http/errors'
import { nodesReferring } from '../workflows/graph'

const DAY_MS = 86_400_000
/** How far back a trend reaches, in days: what the cron keeps. */
export const TREND_DAYS = 400

export interface TrendDay {
  date: string
  members: number | null
  entered: number
  exited: number
}

/** The last `days` days of a segment (today included), one entry a day, a day with nothing recorded in zeros. */
export async function segmentTrend(env: Env, site: Site, segmentId: string, days: number, now = Date.now()): Promise<TrendDay[]> {
  const today = Math.floor(now / DAY_MS)
  const from = today - days + 1
  const shards = await siteData(env, site).each((db) => segmentDays(db, site.id, segmentId, from))
  const byDay = new Map<number, SegmentDay>()
  for (const d of shards.flat()) {
    const sum = byDay.get(d.day)
    if (!sum) byDay.set(d.day, { ...d })
    else {
      sum.entered += d.entered
      sum.exited += d.exited
      sum.members = sum.members === null && d.members === null ? null : (sum.members ?? 0) + (d.members ?? 0)
    }
  }
  return Array.from({ length: days }, (_, i) => {
    const d = byDay.get(from + i)
    return { date: new Date((from + i) * DAY_MS).toISOString().slice(0, 10), members: d?.members ?? null, entered: d?.entered ?? 0, exited: d?.exited ?? 0 }
  })
}

/** Who reads a segment: workflows (and where) and segments whose conditions name it. */
export async function segmentUses(db: D1Database, site: Site, segmentId: string) {
  const [segments, workflows] = await Promise.all([allSegments(db, site.id), allWorkflows(db, site.id)])
  if (!segments.some((s) => s.id === segmentId)) throw notFound('segment', segmentId)
  return {
    segments: segments.filter((s) => s.id !== segmentId && s.conditions && segmentRefs(s.conditions).has(segmentId)).map((s) => ({ id: s.id, name: s.name })),
    workflows: workflows
      .map((w) => ({ id: w.id, name: w.name, nodes: nodesReferring(w.graph, { segment: segmentId }) }))
      .filter((w) => w.nodes.length > 0),
  }
}
