/** Queue messages the consumer could not write, or wrote only in part, kept for an admin to see and replay. */

export type DeadLetterOutcome = 'held' | 'partly written'

export interface DeadLetter {
  id: string
  siteId: string
  kind: string
  contactId: string | null
  body: unknown
  reason: string
  outcome: DeadLetterOutcome
  createdAt: number
}

interface DeadLetterRow {
  id: string
  site_id: string
  kind: string
  contact_id: string | null
  body: string
  reason: string
  outcome: DeadLetterOutcome
  created_at: number
}

const toDeadLetter = (r: DeadLetterRow): DeadLetter => ({
  id: r.id,
  siteId: r.site_id,
  kind: r.kind,
  contactId: r.contact_id,
  body: JSON.parse(r.body),
  reason: r.reason,
  outcome: r.outcome,
  createdAt: r.created_at,
})

export function keepDeadLetter(db: D1Database, d: Omit<DeadLetter, 'body'> & { body: unknown }): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO dead_letters (id, site_id, kind, contact_id, body, reason, outcome, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (id) DO UPDATE SET reason = ?6, outcome = ?7`,
    )
    .bind(d.id, d.siteId, d.kind, d.contactId, JSON.stringify(d.body), d.reason.slice(0, 2000), d.outcome, d.createdAt)
}

/** A site's dead letters, newest first. */
export async function deadLettersOf(db: D1Database, siteId: string, opts: { before?: [number, string]; limit: number }): Promise<{ items: DeadLetter[]; last?: [number, string] }> {
  const { results } = await db
    .prepare(
      `SELECT * FROM dead_letters WHERE site_id = ?1 AND (?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND id < ?3))
       ORDER BY created_at DESC, id DESC LIMIT ?4`,
    )
    .bind(siteId, opts.before?.[0] ?? null, opts.before?.[1] ?? null, opts.limit + 1)
    .all<DeadLetterRow>()
  const items = results.slice(0, opts.limit).map(toDeadLetter)
  const tail = items[items.length - 1]
  return { items, last: results.length > opts.limit && tail ? [tail.createdAt, tail.id] : undefined }
}

export async function getDeadLetter(db: D1Database, siteId: string, id: string): Promise<DeadLetter | undefined> {
  const row = await db.prepare('SELECT * FROM dead_letters WHERE site_id = ?1 AND id = ?2').bind(siteId, id).first<DeadLetterRow>()
  return row ? toDeadLetter(row) : undefined
}

export function dropDeadLetter(db: D1Database, siteId: string, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM dead_letters WHERE site_id = ?1 AND id = ?2').bind(siteId, id)
}

export async function countDeadLetters(db: D1Database, siteId: string): Promise<number> {
  const row = await db.prepare('SELECT count(*) AS n FROM dead_letters WHERE site_id = ?1').bind(siteId).first<{ n: number }>()
  return row?.n ?? 0
}

/** Drops the messages kept for these contact ids (an erased contact's, and its aliases'): they hold what its visits said. */
export function dropDeadLettersOf(db: D1Database, siteId: string, contactIds: readonly string[]): D1PreparedStatement {
  return db
    .prepare('DELETE FROM dead_letters INDEXED BY dead_letters_contact WHERE site_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2))')
    .bind(siteId, JSON.stringify([...new Set(contactIds)]))
}
