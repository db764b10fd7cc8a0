/**
 * The queue consumer: the single writer of what visits did. Each visit message is written to D1 in one
 * transaction (events with duplicate ids ignored, fields, workflow memberships, counters, merges, and
 * the contact's dynamic memberships recomputed in SQL); a message that fails is retried, so nothing is
 * lost and nothing is written twice. Then the snapshots of the contacts touched are rebuilt from D1 and
 * written to KV.
 */
import { type Scalar } from '../conditions/types'
import { type ContactChange, touchContact, updateContacts } from '../data/contacts'
import { saveCounters } from '../data/counters'
import { insertActivities } from '../data/events'
import { addStaticMember, removeMember } from '../data/members'
import { contactIdByEmail, mergeContacts } from '../data/merge'
import { allSegments } from '../data/segments'
import { getSite } from '../data/sites'
import { dynamicOrder } from '../segments/graph'
import { refreshStatements } from '../segments/membership'
import { compileSite } from './compile'
import { buildSiteConfig } from './config'
import { type QueueMessage, type VisitMessage } from './messages'
import { deleteSnapshot, loadSnapshot, readSnapshot, writeSnapshot } from './store'

export async function consume(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  const touched = new Map<string, Map<string, number>>()
  const redirects: Array<[siteId: string, alias: string, target: string]> = []
  const touch = (siteId: string, contactId: string, v: number) => {
    const site = touched.get(siteId) ?? new Map<string, number>()
    site.set(contactId, Math.max(site.get(contactId) ?? 0, v))
    touched.set(siteId, site)
  }
  for (const message of batch.messages) {
    const body = message.body
    try {
      if (body.kind === 'visit') {
        const written = await writeVisit(env.DB, body)
        touch(body.siteId, written.contactId, body.v)
        if (written.mergedFrom) redirects.push([body.siteId, written.mergedFrom, written.contactId])
      } else {
        for (const id of body.contactIds) touch(body.siteId, id, 0)
      }
      message.ack()
    } catch (err) {
      console.error('queue: writing a message failed; it will be retried', err)
      message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) })
    }
  }
  for (const [siteId, alias, target] of redirects) await writeSnapshot(env.KV, siteId, { redirect: target }, alias)
  for (const [siteId, contacts] of touched) await rebuildSnapshots(env, siteId, contacts)
}

/** Writes one visit in one transaction; returns the contact it landed on. */
async function writeVisit(db: D1Database, m: VisitMessage): Promise<{ contactId: string; mergedFrom?: string }> {
  const site = await getSite(db, m.siteId)
  if (!site) return { contactId: m.contactId }
  let contactId = m.contactId
  let mergedFrom = m.mergedFrom
  const email = m.fields.email
  if (typeof email === 'string') {
    // Another browser may have claimed this email since the edge looked: D1 decides, and merges.
    const owner = await contactIdByEmail(db, m.siteId, email)
    if (owner && owner !== contactId) {
      mergedFrom = contactId
      contactId = owner
    }
  }
  const at = m.activities.reduce((max, a) => Math.max(max, a.at), 0)
  const change: ContactChange = { id: contactId, fields: {} }
  for (const [key, value] of Object.entries(m.fields) as Array<[string, Scalar | null]>) {
    if (key === 'email' || key === 'externalId') change[key] = value as string | null
    else if (key !== 'lastSeenAt' && key !== 'createdAt') change.fields![key] = value
  }
  const statements: D1PreparedStatement[] = [
    db
      .prepare(`INSERT INTO contacts (site_id, id, custom, created_at) VALUES (?1, ?2, '{}', ?3) ON CONFLICT DO NOTHING`)
      .bind(m.siteId, contactId, m.createdAt ?? m.v),
  ]
  if (mergedFrom && mergedFrom !== contactId) statements.push(...mergeContacts(db, m.siteId, mergedFrom, contactId, m.v))
  statements.push(...updateContacts(db, m.siteId, [change]))
  if (at > 0) statements.push(touchContact(db, m.siteId, contactId, at))
  if (m.activities.length > 0) statements.push(...insertActivities(db, m.siteId, m.activities.map((a) => ({ ...a, contactId }))))
  for (const [segment, op] of m.statics) {
    statements.push(op === 'add' ? addStaticMember(db, m.siteId, segment, contactId, 'workflow', m.v) : removeMember(db, m.siteId, segment, contactId))
  }
  statements.push(...saveCounters(db, m.siteId, contactId, m.counters))
  const segments = dynamicOrder(await allSegments(db, m.siteId))
  statements.push(...refreshStatements(db, site, segments, m.v, [contactId]))
  await db.batch(statements)
  return { contactId, mergedFrom }
}

/**
 * Rewrites the KV snapshots of these contacts from D1. A snapshot's version is the newest of the
 * visits written for it and the one already in KV, so a token from a later visit still wins.
 */
export async function rebuildSnapshots(env: Env, siteId: string, contacts: Map<string, number>): Promise<void> {
  const config = await buildSiteConfig(env.DB, siteId)
  if (!config) return
  const site = compileSite(config)
  const now = Date.now()
  for (const [contactId, v] of contacts) {
    const snap = await loadSnapshot(env.DB, site, contactId, now)
    if (!snap || snap.id !== contactId) {
      await deleteSnapshot(env.KV, siteId, contactId)
      continue
    }
    const stored = await readSnapshot(env.KV, siteId, contactId)
    const previous = stored && 'v' in stored ? stored.v : 0
    snap.v = v === 0 ? Math.max(now, previous + 1) : Math.max(v, previous)
    try {
      await writeSnapshot(env.KV, siteId, snap)
    } catch (err) {
      // KV takes about one write a second per key; the state token carries the contact until the next one.
      console.warn('queue: a snapshot write was refused', err)
    }
  }
}
