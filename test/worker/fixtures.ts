/**
 * What the workerd tests share: the admin token, sites and contacts written straight to D1 for tests
 * below the HTTP layer, and calls to the admin API as an admin makes them.
 */
import { env } from 'cloudflare:workers'
import { type Activity } from '../../worker/conditions/evaluate'
import { type CustomFieldDefinition } from '../../worker/conditions/fields'
import { insertContacts } from '../../worker/data/contacts'
import { insertActivities } from '../../worker/data/events'
import { addMember } from '../../worker/data/members'
import { type SiteData, database, siteData } from '../../worker/data/shards'
import { DEFAULT_LIMITS, getSite, saveSite, siteOnShard } from '../../worker/data/sites'
import { newIdentitySecret } from '../../worker/visits/identity'

export const ADMIN_TOKEN = 'test-admin-token'

/** Both data shards: a site written by `putSite` spreads its contacts over them. */
export const BOTH_SHARDS = ['SHARD_1', 'SHARD_2']

/** A site straight in D1, for tests below the HTTP layer, its contacts spread over both shards. */
export async function putSite(id: string, fields: CustomFieldDefinition[] = []): Promise<void> {
  const now = Date.now()
  await Promise.all(BOTH_SHARDS.map((name) => siteOnShard(database(env, name), id, now).run()))
  await saveSite(env.DB, { id, key: `pk_${id}_testsite`, name: id, allowedOrigins: [], fields, browserFields: [], identitySecret: newIdentitySecret(), identitySecretCreatedAt: now, trustUnsignedIdentify: false, limits: DEFAULT_LIMITS, shards: BOTH_SHARDS, createdAt: now, updatedAt: now }).run()
}

/** A site's shards, as the Worker finds them from its placement in the control database. */
export async function dataOf(siteId: string): Promise<SiteData> {
  const site = await getSite(env.DB, siteId)
  if (!site) throw new Error(`no site ${siteId}`)
  return siteData(env, site)
}

/**
 * Runs a read on every shard of a site and gives all the rows: what a test asks of "the site's data"
 * wherever each contact lives.
 */
export async function rowsOf<T = Record<string, unknown>>(siteId: string, sql: string, ...params: unknown[]): Promise<T[]> {
  const data = await dataOf(siteId)
  const found = await data.each(async (db) => (await db.prepare(sql).bind(...params).all<T>()).results)
  return found.flat()
}

export interface FixtureContact {
  id: string
  email?: string
  fields?: Record<string, string | number | boolean>
  createdAt: number
  lastSeenAt?: number
  events?: Activity[]
  segments?: string[]
}

/** Replaces every contact, activity and membership of a site with these, each on its own shard. */
export async function loadContacts(siteId: string, contacts: FixtureContact[], now: number): Promise<void> {
  const data = await dataOf(siteId)
  await data.each((db) => db.batch(['contacts', 'events', 'segment_members'].map((t) => db.prepare(`DELETE FROM ${t} WHERE site_id = ?1`).bind(siteId))))
  for (const [shard, list] of data.group(contacts, (c) => c.id)) await writeContacts(shard.db, siteId, list, now)
}

async function writeContacts(db: D1Database, siteId: string, contacts: FixtureContact[], now: number): Promise<void> {
  const statements: D1PreparedStatement[] = []
  for (const c of contacts) {
    statements.push(...insertContacts(db, siteId, [{ id: c.id, email: c.email ?? null, fields: c.fields ?? {} }], c.createdAt))
    if (c.lastSeenAt !== undefined) {
      statements.push(db.prepare('UPDATE contacts SET last_seen_at = ?3 WHERE site_id = ?1 AND id = ?2').bind(siteId, c.id, c.lastSeenAt))
    }
    for (const s of c.segments ?? []) statements.push(addMember(db, siteId, s, c.id, 'manual', now))
    if (c.events?.length) statements.push(...insertActivities(db, siteId, c.events.map((a) => ({ ...a, contactId: c.id }))))
  }
  await db.batch(statements)
}

/** Calls the Worker's admin API with the token. */
export async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const { exports } = await import('cloudflare:workers')
  return exports.default.fetch(`http://segue.test/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
}
