/**
 * A contact's stored state as the write side works from it: its row (with its activity aggregates and
 * their revision), its memberships and its limitation counters, read for many contacts in one call by
 * seeks on each contact's keys; and the statements that keep the aggregates and dynamic memberships.
 */
import { type Contact, type ContactRow, toContact } from './contacts'
import { type MemberSource } from './members'

export interface ContactState {
  contact: Contact
  /** The aggregates kept for the contact's snapshot, as JSON; null when none are kept yet. */
  aggregates: string | null
  /** How many times the aggregates were written: a writer sets one more than it read (see migration 0006). */
  rev: number
  /** The newest visit written to the contact (see updateContacts). */
  writtenV: number
  memberships: Map<string, { since: number; source: MemberSource }>
  counters: Record<string, [number, number]>
}

type StateRow = ContactRow & { aggregates: string | null; state_rev: number; written_v: number }

/**
 * The stored state of these contacts, in one D1 call; ids with no row are left out. With `activities`,
 * also which of these [contact, activity id] pairs are stored already.
 */
export async function contactStates(
  db: D1Database,
  siteId: string,
  ids: readonly string[],
  activities: ReadonlyArray<[contactId: string, id: string]> = [],
): Promise<{ states: Map<string, ContactState>; stored: Set<string> }> {
  const list = JSON.stringify([...new Set(ids)])
  const statements = [
    db.prepare('SELECT * FROM contacts WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))').bind(siteId, list),
    db
      .prepare(
        `SELECT contact_id, segment_id, since, source FROM segment_members INDEXED BY segment_members_contact
         WHERE site_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2))`,
      )
      .bind(siteId, list),
    db
      .prepare('SELECT contact_id, workflow_id, node_id, runs, last_at FROM workflow_counters WHERE site_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2))')
      .bind(siteId, list),
  ]
  if (activities.length > 0) {
    statements.push(
      db
        .prepare(
          `SELECT e.contact_id, e.id FROM json_each(?2) p CROSS JOIN events e
           WHERE e.site_id = ?1 AND e.contact_id = p.value ->> '$[0]' AND e.id = p.value ->> '$[1]'`,
        )
        .bind(siteId, JSON.stringify(activities)),
    )
  }
  const [rows, members, counters, known] = await db.batch(statements)
  const states = new Map<string, ContactState>()
  for (const r of rows.results as StateRow[]) {
    states.set(r.id, { contact: toContact(r), aggregates: r.aggregates, rev: r.state_rev, writtenV: r.written_v, memberships: new Map(), counters: {} })
  }
  for (const r of members.results as Array<{ contact_id: string; segment_id: string; since: number; source: MemberSource }>) {
    states.get(r.contact_id)?.memberships.set(r.segment_id, { since: r.since, source: r.source })
  }
  for (const r of counters.results as Array<{ contact_id: string; workflow_id: string; node_id: string; runs: number; last_at: number }>) {
    const state = states.get(r.contact_id)
    if (state) state.counters[`${r.workflow_id}/${r.node_id}`] = [r.runs, r.last_at]
  }
  const stored = new Set((known?.results as Array<{ contact_id: string; id: string }> | undefined)?.map((r) => `${r.contact_id}\u0000${r.id}`))
  return { states, stored }
}

/**
 * Writes a contact's aggregates, as the writer that read revision `rev`: should another writer have
 * written them since, the trigger of migration 0006 aborts the whole transaction.
 */
export function saveAggregates(db: D1Database, siteId: string, contactId: string, aggregates: string, rev: number): D1PreparedStatement {
  return db.prepare('UPDATE contacts SET aggregates = ?3, state_rev = ?4 + 1 WHERE site_id = ?1 AND id = ?2').bind(siteId, contactId, aggregates, rev)
}

/** Keeps aggregates worked out from history, unless a writer got there first (then nothing is written). */
export function keepAggregates(db: D1Database, siteId: string, contactId: string, aggregates: string, rev: number): D1PreparedStatement {
  return db
    .prepare('UPDATE contacts SET aggregates = ?3, state_rev = ?4 + 1 WHERE site_id = ?1 AND id = ?2 AND state_rev = ?4')
    .bind(siteId, contactId, aggregates, rev)
}

/**
 * Drops these contacts' aggregates, to be worked out again from their activities when next needed: after
 * an import or a merge, which change a contact's activities other than a visit does.
 */
export function forgetAggregates(db: D1Database, siteId: string, ids: readonly string[]): D1PreparedStatement {
  return db
    .prepare('UPDATE contacts SET aggregates = NULL, state_rev = state_rev + 1 WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))')
    .bind(siteId, JSON.stringify([...new Set(ids)]))
}

/**
 * Tells a writer that read these contacts' state before an admin change to them (fields, memberships)
 * that it moved, so the writer starts again from what the change left.
 */
export function markStateChanged(db: D1Database, siteId: string, ids: readonly string[]): D1PreparedStatement {
  return db
    .prepare('UPDATE contacts SET state_rev = state_rev + 1 WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))')
    .bind(siteId, JSON.stringify([...new Set(ids)]))
}

/** Puts a contact in these dynamic segments (by rule, since `since`), and takes it out of those. */
export function moveRuleMembers(db: D1Database, siteId: string, contactId: string, entered: readonly string[], left: readonly string[], since: number): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = []
  if (entered.length > 0) {
    out.push(
      db
        .prepare(
          `INSERT INTO segment_members (site_id, segment_id, contact_id, since, source)
           SELECT ?1, value, ?2, ?3, 'rule' FROM json_each(?4) WHERE true ON CONFLICT DO NOTHING`,
        )
        .bind(siteId, contactId, since, JSON.stringify(entered)),
    )
  }
  if (left.length > 0) {
    out.push(
      db
        .prepare('DELETE FROM segment_members WHERE site_id = ?1 AND contact_id = ?2 AND segment_id IN (SELECT value FROM json_each(?3))')
        .bind(siteId, contactId, JSON.stringify(left)),
    )
  }
  return out
}
