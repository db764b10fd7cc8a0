/**
 * The segments table: a site's static and dynamic segments (with their condition trees), listed with
 * their member counts, saved, and deleted with their memberships.
 */
import { type Condition } from '../conditions/types'

export type SegmentType = 'static' | 'dynamic'

export interface Segment {
  id: string
  name: string
  description: string
  type: SegmentType
  conditions: Condition | null
  createdAt: number
  updatedAt: number
}

export interface SegmentWithCount extends Segment {
  members: number
}

interface SegmentRow {
  id: string
  name: string
  description: string
  type: SegmentType
  conditions: string | null
  created_at: number
  updated_at: number
}

function toSegment(r: SegmentRow): Segment {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    type: r.type,
    conditions: r.conditions === null ? null : JSON.parse(r.conditions),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

/** Every segment of a site (the graph dynamic membership is computed over). */
export async function allSegments(db: D1Database, siteId: string): Promise<Segment[]> {
  const { results } = await db.prepare('SELECT * FROM segments WHERE site_id = ?1 ORDER BY id').bind(siteId).all<SegmentRow>()
  return results.map(toSegment)
}

/** A segment (from the control database; its members are counted on the shards, see `memberCounts`). */
export async function getSegment(db: D1Database, siteId: string, id: string): Promise<Segment | undefined> {
  const row = await db.prepare('SELECT * FROM segments WHERE site_id = ?1 AND id = ?2').bind(siteId, id).first<SegmentRow>()
  return row ? toSegment(row) : undefined
}

/** How many members each of these segments has on one shard: one count over each segment's own keys. */
export async function memberCounts(db: D1Database, siteId: string, segmentIds: readonly string[]): Promise<Map<string, number>> {
  if (segmentIds.length === 0) return new Map()
  const { results } = await db
    .prepare(
      `SELECT s.value AS id, (SELECT count(*) FROM segment_members m WHERE m.site_id = ?1 AND m.segment_id = s.value) AS members
       FROM json_each(?2) s`,
    )
    .bind(siteId, JSON.stringify(segmentIds))
    .all<{ id: string; members: number }>()
  return new Map(results.map((r) => [r.id, r.members]))
}

/** Segments sorted by name (case-insensitive), filtered by type and a name fragment. */
export async function listSegments(
  db: D1Database,
  siteId: string,
  opts: { type?: SegmentType; q?: string; after?: [string, string]; limit: number },
): Promise<{ segments: Segment[]; last?: [string, string] }> {
  const like = opts.q ? `%${opts.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null
  const { results } = await db
    .prepare(
      `SELECT s.* FROM segments s WHERE s.site_id = ?1
         AND (?2 IS NULL OR s.type = ?2)
         AND (?3 IS NULL OR s.name LIKE ?3 ESCAPE '\\')
         AND (?4 IS NULL OR lower(s.name) > ?4 OR (lower(s.name) = ?4 AND s.id > ?5))
       ORDER BY lower(s.name), s.id LIMIT ?6`,
    )
    .bind(siteId, opts.type ?? null, like, opts.after?.[0] ?? null, opts.after?.[1] ?? null, opts.limit + 1)
    .all<SegmentRow>()
  const segments = results.slice(0, opts.limit).map(toSegment)
  const tail = segments[segments.length - 1]
  return { segments, last: results.length > opts.limit && tail ? [tail.name.toLowerCase(), tail.id] : undefined }
}

export async function segmentNameTaken(db: D1Database, siteId: string, name: string, exceptId: string): Promise<boolean> {
  const row = await db
    .prepare('SELECT 1 AS taken FROM segments WHERE site_id = ?1 AND name = ?2 COLLATE NOCASE AND id != ?3')
    .bind(siteId, name, exceptId)
    .first()
  return row !== null
}

export function saveSegment(db: D1Database, siteId: string, s: Segment): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segments (site_id, id, name, description, type, conditions, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (site_id, id) DO UPDATE SET name = ?3, description = ?4, conditions = ?6, updated_at = ?8`,
    )
    .bind(siteId, s.id, s.name, s.description, s.type, s.conditions === null ? null : JSON.stringify(s.conditions), s.createdAt, s.updatedAt)
}

/** Deletes a segment from the control database; its memberships go from each shard (`deleteMemberships`). */
export function deleteSegment(db: D1Database, siteId: string, id: string): D1PreparedStatement[] {
  return [db.prepare('DELETE FROM segments WHERE site_id = ?1 AND id = ?2').bind(siteId, id)]
}
