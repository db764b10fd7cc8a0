/**
 * Keeping dynamic memberships right in D1: statements that recompute them, whole-site or for a few
 * contacts, in the order segment clauses require.
 */
import { FieldCatalog } from '../conditions/fields'
import { markStateChanged } from '../data/contact-state'
import { prepare } from '../conditions/prepare'
import { compileSql } from '../conditions/sql'
import { refreshMembers } from '../data/members'
import { type Segment, allSegments } from '../data/segments'
import { type Site, fenceWrites } from '../data/sites'
import { dynamicOrder } from './graph'

/**
 * Statements that recompute `segments` (already in computing order) for `contactIds`, or for every
 * contact of the site when omitted. Run them in one batch, after the writes they follow.
 */
export function refreshStatements(
  db: D1Database,
  site: Pick<Site, 'id' | 'fields'>,
  segments: ReadonlyArray<Pick<Segment, 'id' | 'type' | 'conditions'>>,
  now: number,
  contactIds?: readonly string[],
  returning = false,
): D1PreparedStatement[] {
  const catalog = new FieldCatalog(site.fields)
  return segments.flatMap((s) =>
    s.type === 'dynamic' && s.conditions
      ? refreshMembers(db, site.id, s.id, compileSql(prepare(s.conditions, catalog), now, contactIds ? undefined : site.id), now, contactIds, returning)
      : [],
  )
}

/**
 * Runs `writes` and then re-evaluates every dynamic segment for the contacts they touched, in one
 * transaction on the shard `db` that holds them all: a contact's memberships are never seen out of step
 * with its fields and activities. A queue writer that read these contacts' state before starts again from
 * what this leaves (see contact-state.ts). The segments are read from the control database.
 */
export async function writeAndRefresh(
  control: D1Database,
  db: D1Database,
  site: Site,
  writes: D1PreparedStatement[],
  contactIds: readonly string[],
  now: number,
): Promise<D1Result[]> {
  const order = dynamicOrder(await allSegments(control, site.id))
  return db.batch([fenceWrites(db, site.id), ...writes, ...refreshStatements(db, site, order, now, contactIds), markStateChanged(db, site.id, contactIds)]).then((results) => results.slice(1))
}
