/**
 * Segment trends (migration 0017): per segment and UTC day, the contacts that entered and left it (kept by
 * triggers on segment_members) and the member count the day's scheduled pass counted. Each database holds
 * its own contacts' figures; a site's are the sums over its shards.
 */

export interface SegmentDay {
  day: number
  /** Null for a day the scheduled pass did not count. */
  members: number | null
  entered: number
  exited: number
}

/**
 * Counts the members of each of `segmentIds` on this database for `day`, in one statement: one seek and a
 * count over segment_members' primary key (site, segment, contact) per segment, a segment with none counted 0.
 */
export function countMembersFor(db: D1Database, siteId: string, segmentIds: readonly string[], day: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segment_days (site_id, segment_id, day, members)
       SELECT ?1, s.value, ?2, (SELECT count(*) FROM segment_members m WHERE m.site_id = ?1 AND m.segment_id = s.value) FROM json_each(?3) s WHERE true
       ON CONFLICT DO UPDATE SET members = excluded.members`,
    )
    .bind(siteId, day, JSON.stringify(segmentIds))
}

/** A segment's days from `fromDay` on, oldest first: a range of the primary key. */
export async function segmentDays(db: D1Database, siteId: string, segmentId: string, fromDay: number): Promise<SegmentDay[]> {
  const { results } = await db
    .prepare('SELECT day, members, entered, exited FROM segment_days WHERE site_id = ?1 AND segment_id = ?2 AND day >= ?3 ORDER BY day')
    .bind(siteId, segmentId, fromDay)
    .all<SegmentDay>()
  return results
}

/** Deletes a site's days before `beforeDay` on this database, through segment_days_day. */
export function pruneSegmentDays(db: D1Database, siteId: string, beforeDay: number): D1PreparedStatement {
  return db.prepare('DELETE FROM segment_days WHERE site_id = ?1 AND day < ?2').bind(siteId, beforeDay)
}

/** Deletes a segment's days on this database (the segment is being deleted). */
export function deleteSegmentDays(db: D1Database, siteId: string, segmentId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM segment_days WHERE site_id = ?1 AND segment_id = ?2').bind(siteId, segmentId)
}
