/**
 * The work behind segments, shared with the console: saving one (conditions checked, no cycle, dynamic
 * membership recomputed with that of every segment that reads it, in one transaction), deleting one nothing
 * uses, previews, static membership by hand, and why a contact meets each clause.
 */
import { type z } from 'zod'
import { type Explanation, explain as explainTree, historyFacts } from '../conditions/evaluate'
import { FieldCatalog } from '../conditions/fields'
import { prepare } from '../conditions/prepare'
import { beyondRetention, reachDays } from '../conditions/reach'
import { checkAgainstFields } from '../conditions/schema'
import { compileSql } from '../conditions/sql'
import { summarize } from '../conditions/summarize'
import { type Condition, activityClauses, groupChildren, isGroup, segmentRefs } from '../conditions/types'
import { type Contact, contactsWhere, fieldValues, getContact } from '../data/contacts'
import { listActivities } from '../data/events'
import { addMember, deleteMemberships, membershipsOf, removeMember } from '../data/members'
import { deleteSegmentDays } from '../data/trends'
import { segmentUses } from './trends'
import { type Segment, type SegmentWithCount, allSegments, deleteSegment, getSegment, memberCounts, saveSegment, segmentNameTaken } from '../data/segments'
import { type SiteData, siteData } from '../data/shards'
import { type Site } from '../data/sites'
import { type Changes } from '../background/changes'
import { refuse, notFound } from '../http/errors'
import { newId } from '../lib/ids'
import { contactJson } from '../contacts/service'
import { dependentsOf, findCycle } from './graph'
import { refreshStatements, writeAndRefresh } from './membership'
import { type segmentCreate, type segmentPatch } from './schema'

/** A segment as the admin API shows it, with its plain-language summary. */
export function segmentJson(s: SegmentWithCount, summary: string | null) {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    type: s.type,
    conditions: s.conditions,
    summary,
    members: s.members,
    createdAt: new Date(s.createdAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
  }
}

/** Summaries name segments, not ids. */
export function summarizer(site: Site, segments: readonly Segment[]) {
  const catalog = new FieldCatalog(site.fields)
  const names = new Map(segments.map((s) => [s.id, s.name]))
  return (c: Condition | null) => (c ? summarize(c, { catalog, segmentName: (id) => names.get(id) }) : null)
}

const invalidConditions = (message: string) => refuse('invalid', 'invalid_request', `conditions: ${message}`, { field: 'conditions', issues: [{ path: 'conditions', message }] })

/**
 * Checks a tree for this site: fields that make sense, no activity read further back than the site keeps
 * activities, segments that exist, no way back to itself.
 */
function checkConditions(site: Site, segments: readonly Segment[], selfId: string, conditions: Condition, now: number): void {
  const problems = checkAgainstFields(conditions, new FieldCatalog(site.fields))
  if (problems.length > 0) {
    throw refuse('invalid', 'invalid_conditions', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { field: 'conditions', issues: problems })
  }
  const days = site.retention.activityDays
  const beyond = beyondRetention(conditions, days, now).map((r) => ({
    path: r.path,
    message: `${r.what} reads activities ${reachDays(r)} days back, but this site keeps them for ${days} days: read less far back, or keep activities longer in the site's settings`,
  }))
  if (beyond.length > 0) {
    throw refuse('invalid', 'beyond_retention', beyond.map((p) => `${p.path}: ${p.message}`).join('; '), { field: 'conditions', issues: beyond })
  }
  const known = new Set(segments.map((s) => s.id))
  for (const ref of segmentRefs(conditions)) {
    if (ref === selfId) throw refuse('invalid', 'self_reference', 'A segment cannot refer to itself in its own conditions', { field: 'conditions' })
    if (!known.has(ref)) throw refuse('invalid', 'unknown_segment', `The conditions refer to segment "${ref}", which does not exist`, { field: 'conditions' })
  }
  const cycle = findCycle(segments, { id: selfId, type: 'dynamic', conditions })
  if (cycle) {
    const names = new Map(segments.map((s) => [s.id, s.name]))
    throw refuse('invalid', 'segment_cycle', `These conditions would make segments depend on each other in a circle: ${cycle.map((id) => names.get(id) ?? id).join(' → ')}`, { field: 'conditions' })
  }
}

export interface BackfillReport {
  added: number
  removed: number
  ms: number
}

/**
 * Recomputes `segments` (in computing order) over every contact of the site, one transaction a shard, all
 * shards at once; what was added and removed is summed. Run after the segments are saved.
 */
async function backfill(data: SiteData, site: Site, segments: ReadonlyArray<Pick<Segment, 'id' | 'type' | 'conditions'>>, now: number): Promise<BackfillReport> {
  const started = Date.now()
  const results = await data.each((db) => {
    const statements = refreshStatements(db, site, segments, now)
    if (statements.length === 0) return Promise.resolve([])
    // The first segment's two statements are its removals, then its additions (refreshMembers), each
    // followed by SQLite's changes(): the rows the statement itself changed, not what triggers wrote
    // (the segment's trend), which meta.changes includes.
    const changes = () => db.prepare('SELECT changes() AS n')
    return db.batch([statements[0], changes(), statements[1], changes(), ...statements.slice(2)])
  })
  const changed = (i: number) => results.reduce((n, r) => n + ((r[i]?.results[0] as { n: number } | undefined)?.n ?? 0), 0)
  return { removed: changed(1), added: changed(3), ms: Date.now() - started }
}

/** A segment with its members counted on every shard of the site. */
export async function segmentWithCount(env: Env, site: Site, id: string): Promise<SegmentWithCount | undefined> {
  const data = siteData(env, site)
  const segment = await getSegment(data.control, site.id, id)
  return segment && (await withCounts(data, [segment]))[0]
}

/** Segments with their members counted: one query a shard, summed. */
export async function withCounts(data: SiteData, segments: readonly Segment[]): Promise<SegmentWithCount[]> {
  const counts = await data.each((db) => memberCounts(db, data.siteId, segments.map((s) => s.id)))
  return segments.map((s) => ({ ...s, members: counts.reduce((n, c) => n + (c.get(s.id) ?? 0), 0) }))
}

/** Creates a segment; a dynamic one is filled with every contact that meets its conditions, at once. */
export async function createSegment(env: Env, site: Site, input: z.output<typeof segmentCreate>, changes: Changes, now = Date.now()) {
  const data = siteData(env, site)
  const db = data.control
  if (input.type === 'static' && input.conditions) throw invalidConditions('a static segment has no conditions; its members are added and removed by hand or by workflows')
  if (input.type === 'dynamic' && !input.conditions) throw invalidConditions('a dynamic segment needs conditions')
  const id = input.id ?? newId('seg', 12)
  const segments = await allSegments(db, site.id)
  if (segments.some((s) => s.id === id)) throw refuse('conflict', 'segment_exists', `A segment with id "${id}" already exists`, { field: 'id' })
  if (await segmentNameTaken(db, site.id, input.name, id)) throw refuse('conflict', 'segment_name_taken', `A segment named "${input.name}" already exists`, { field: 'name' })
  const segment: Segment = { id, name: input.name, description: input.description, type: input.type, conditions: input.conditions ?? null, createdAt: now, updatedAt: now }
  if (segment.conditions) checkConditions(site, segments, id, segment.conditions, now)
  await saveSegment(db, site.id, segment).run()
  changes.siteConfig(site)
  const filled = segment.type === 'dynamic' ? await backfill(data, site, [segment], now) : undefined
  return { segment: (await segmentWithCount(env, site, id))!, backfill: filled, summarize: summarizer(site, [...segments, segment]) }
}

/**
 * Updates a segment. New conditions recompute its membership over every contact, and then that of
 * every segment that reads it, in one transaction.
 */
export async function updateSegment(env: Env, site: Site, id: string, patch: z.output<typeof segmentPatch>, changes: Changes, now = Date.now()) {
  const data = siteData(env, site)
  const db = data.control
  const segments = await allSegments(db, site.id)
  const current = segments.find((s) => s.id === id)
  if (!current) throw notFound('segment', id)
  if (patch.type && patch.type !== current.type) throw refuse('invalid', 'type_locked', `This segment is ${current.type}; a segment's type cannot change. Create a new segment instead.`, { field: 'type' })
  if (patch.conditions && current.type === 'static') throw invalidConditions('a static segment has no conditions')
  if (patch.name && (await segmentNameTaken(db, site.id, patch.name, id))) throw refuse('conflict', 'segment_name_taken', `A segment named "${patch.name}" already exists`, { field: 'name' })
  const next: Segment = {
    ...current,
    name: patch.name ?? current.name,
    description: patch.description ?? current.description,
    conditions: patch.conditions ?? current.conditions,
    updatedAt: now,
  }
  let filled: BackfillReport | undefined
  if (patch.conditions) checkConditions(site, segments, id, patch.conditions, now)
  await saveSegment(db, site.id, next).run()
  changes.siteConfig(site)
  if (patch.conditions) {
    const graph = segments.map((s) => (s.id === id ? next : s))
    filled = await backfill(data, site, [next, ...dependentsOf(graph, id)], now)
  }
  return { segment: (await segmentWithCount(env, site, id))!, backfill: filled, summarize: summarizer(site, segments) }
}

/** Deletes a segment and its memberships, unless another segment's conditions read it. */
export async function removeSegment(env: Env, site: Site, id: string, changes: Changes): Promise<void> {
  const data = siteData(env, site)
  const db = data.control
  // Who reads it (answering 404 for a segment that does not exist): a segment first, then a workflow.
  const uses = await segmentUses(db, site, id)
  if (uses.segments.length > 0) {
    throw refuse('conflict', 'segment_in_use', `Segment "${uses.segments[0].name}" uses this segment in its conditions; change or delete it first`, { extra: { usedBy: uses.segments } })
  }
  const [w] = uses.workflows
  if (w) {
    const where = w.nodes[0] === 'start' ? 'its Start node' : `node ${w.nodes[0]}`
    throw refuse('conflict', 'segment_in_use', `Workflow "${w.name}" uses this segment (${where}); change it first`, { extra: { usedBy: [{ id: w.id, name: w.name }] } })
  }
  // The segment first: memberships left behind a moment name a segment nobody reads any more.
  await db.batch(deleteSegment(db, site.id, id))
  // Its days go after its memberships, whose deletion counts as exits.
  await data.each((shard) => shard.batch([...deleteMemberships(shard, site.id, id), deleteSegmentDays(shard, site.id, id)]))
  changes.siteConfig(site)
}

/** How many contacts unsaved conditions would hold, a sample of them, and the summary. */
export async function previewSegment(env: Env, site: Site, conditions: Condition, opts: { segment?: string; sample: number }, now = Date.now()) {
  const data = siteData(env, site)
  const segments = await allSegments(data.control, site.id)
  checkConditions(site, segments, opts.segment ?? '', conditions, now)
  const where = compileSql(prepare(conditions, new FieldCatalog(site.fields)), now, site.id)
  // Each shard counts and samples its own; the sample is the most recently seen of them all.
  const found = await data.each((db) => contactsWhere(db, site.id, where, opts.sample))
  const count = found.reduce((n, f) => n + f.count, 0)
  const sample = found.flatMap((f) => f.sample).sort(bySeen).slice(0, opts.sample)
  return { count, sample: sample.map(contactJson), summary: summarizer(site, segments)(conditions) }
}

/** Adds a contact to a static segment by hand; a dynamic segment refuses with 409. */
export async function addToStaticSegment(env: Env, site: Site, contactId: string, segmentId: string, changes: Changes, now = Date.now()) {
  const data = siteData(env, site)
  const db = data.of(contactId)
  const segment = await staticTarget(data, site, contactId, segmentId, 'add')
  // The segments that read this one follow at once.
  await writeAndRefresh(data.control, db, site, [addMember(db, site.id, segment.id, contactId, 'manual', now)], [contactId], now)
  changes.contacts(site.id, [contactId])
}

export async function removeFromStaticSegment(env: Env, site: Site, contactId: string, segmentId: string, changes: Changes, now = Date.now()) {
  const data = siteData(env, site)
  const db = data.of(contactId)
  const segment = await staticTarget(data, site, contactId, segmentId, 'remove')
  await writeAndRefresh(data.control, db, site, [removeMember(db, site.id, segment.id, contactId)], [contactId], now)
  changes.contacts(site.id, [contactId])
}

async function staticTarget(data: SiteData, site: Site, contactId: string, segmentId: string, verb: 'add' | 'remove') {
  const [contact, segment] = await Promise.all([getContact(data.of(contactId), site.id, contactId), getSegment(data.control, site.id, segmentId)])
  if (!contact) throw notFound('contact', contactId)
  if (!segment) throw notFound('segment', segmentId)
  if (segment.type === 'dynamic') {
    throw refuse('conflict', 'segment_is_dynamic', `"${segment.name}" is a dynamic segment: its members follow its conditions, so contacts cannot be ${verb === 'add' ? 'added' : 'removed'} by hand. Change the contact's fields or the segment's conditions instead.`)
  }
  return segment
}

export interface ClauseExplanation extends Explanation {
  summary?: string
  children?: ClauseExplanation[]
}

/**
 * For each clause of a segment's conditions, whether the contact meets it now and the value compared.
 */
export async function explainMembership(env: Env, site: Site, contactId: string, segmentId: string, now = Date.now()) {
  const data = siteData(env, site)
  const db = data.of(contactId)
  const [contact, segment, memberships, segments] = await Promise.all([
    getContact(db, site.id, contactId),
    getSegment(data.control, site.id, segmentId),
    membershipsOf(db, site.id, contactId),
    allSegments(data.control, site.id),
  ])
  if (!contact) throw notFound('contact', contactId)
  if (!segment) throw notFound('segment', segmentId)
  const membership = memberships.find((m) => m.segmentId === segmentId)
  const base = {
    segment: { id: segment.id, name: segment.name, type: segment.type },
    contact: contact.id,
    member: membership !== undefined,
    since: membership ? new Date(membership.since).toISOString() : null,
    source: membership?.source ?? null,
  }
  if (segment.type === 'static' || !segment.conditions) return { ...base, met: membership !== undefined, summary: null, conditions: null }
  const explanation = (await explainSegments(db, site, contact, segments, memberships.map((m) => m.segmentId), [segment], now)).get(segment.id)!
  return { ...base, met: explanation.met, summary: explanation.summary ?? null, conditions: explanation }
}

/**
 * Explains several dynamic segments for one contact, reading its activities once for all of them.
 * `segments` is every segment of the site (for the names summaries use).
 */
export async function explainSegments(
  db: D1Database,
  site: Site,
  contact: Contact,
  segments: readonly Segment[],
  memberOf: readonly string[],
  explained: readonly Segment[],
  now = Date.now(),
): Promise<Map<string, ClauseExplanation>> {
  const dynamic = explained.filter((s) => s.conditions !== null)
  const types = [...new Set(dynamic.flatMap((s) => activityClauses(s.conditions!).map((a) => a.activity)))]
  const activities = types.length > 0 ? await listActivities(db, site.id, contact.id, { types }) : []
  const facts = historyFacts(fieldValues(contact), activities, new Set(memberOf))
  const catalog = new FieldCatalog(site.fields)
  const summarizeClause = summarizer(site, segments)
  const annotate = (e: Explanation, c: Condition): ClauseExplanation => ({
    ...e,
    summary: summarizeClause(c) ?? undefined,
    children: isGroup(c) ? e.children?.map((child, i) => annotate(child, groupChildren(c)[i])) : undefined,
  })
  return new Map(dynamic.map((s) => [s.id, annotate(explainTree(prepare(s.conditions!, catalog), facts, now), s.conditions!)]))
}

/** The most recently seen first, never seen last, then by id: the order of a preview's sample. */
function bySeen(a: Contact, b: Contact): number {
  return (b.lastSeenAt ?? -Infinity) - (a.lastSeenAt ?? -Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
