/**
 * No invocation exceeds Cloudflare's limits of 1,000 D1 queries and 1,000 KV operations, whatever it is
 * given: full queue batches of the costliest messages, a bulk upsert of 1,000 contacts, a backfill over
 * every contact of a site. Each invocation runs with counted bindings — the control database and every
 * data shard, the sites here being spread over both — and work that does not fit one is left to the
 * next, and nothing is lost on the way.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { type QueueMessage } from '../../worker/background/messages'
import { Edge, MAX_BATCH_SIZE, ORIGIN, eid } from './edge-harness'
import { BOTH_SHARDS, dataOf, rowsOf } from './fixtures'
import { Usage, d1Bindings, instrumented } from './instrumented'
import { database } from '../../worker/data/shards'
import { DEFAULT_LIMITS, saveSite, siteOnShard } from '../../worker/data/sites'
import { newIdentitySecret } from '../../worker/visits/identity'

const SITE = 'limits'
const KEY = 'pk_limits_test'
const CONTACTS = 2_400
const edge = new Edge()
const id = (i: number) => `l${String(i).padStart(5, '0')}`
const LIMIT = 1_000

/** Runs the queue dry, one invocation at a time with counted bindings; returns what each one used. */
async function drain(): Promise<Usage[]> {
  const invocations: Usage[] = []
  for (let round = 0; edge.queue.length > 0; round++) {
    if (round > 200) throw new Error('the queue does not drain')
    const usage = new Usage()
    await edge.flush(instrumented(edge.env, usage))
    invocations.push(usage)
  }
  return invocations
}

const withinLimits = (invocations: Usage[]) => invocations.map((u) => ({ d1: u.d1Calls <= LIMIT, kv: u.kvOps <= LIMIT }))

beforeAll(async () => {
  await edge.admin('POST', '/sites', { id: SITE, key: KEY, name: 'Limits', allowedOrigins: [ORIGIN], shards: 2 })
  const now = Date.now()
  const people = Array.from({ length: CONTACTS }, (_, i) => ({ id: id(i), v: { id: `${id(i)}-v`, c: id(i), u: `${ORIGIN}/${i % 2 ? 'rock' : 'jazz'}`, t: now - i * 1000 } }))
  const data = await dataOf(SITE)
  expect(data.shards).toHaveLength(2)
  for (const [{ db }, list] of data.group(people, (p) => p.id)) {
    await db.batch([
      db.prepare(`INSERT INTO contacts (site_id, id, custom, created_at) SELECT ?1, r.value ->> '$.id', '{}', ?2 FROM json_each(?3) r`).bind(SITE, now, JSON.stringify(list)),
      db.prepare(`INSERT INTO events (site_id, id, contact_id, type, at, url) SELECT ?1, r.value ->> '$.id', r.value ->> '$.c', 'page_visit', r.value ->> '$.t', r.value ->> '$.u' FROM json_each(?2) r`).bind(SITE, JSON.stringify(list.map((p) => p.v))),
    ])
  }
  await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_rock', name: 'Rock', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' } }] } })
}, 60_000)

describe('a queue invocation', () => {
  it('rebuilds as many snapshots as fit, and leaves the rest of a full batch of refreshes to the next', async () => {
    // 100 messages of 24 contacts each: 2,400 rebuilds asked of one batch, every contact with no aggregates kept yet.
    for (let m = 0; m < MAX_BATCH_SIZE; m++) {
      edge.queue.push({ kind: 'refresh', siteId: SITE, contactIds: Array.from({ length: 24 }, (_, k) => id(m * 24 + k)) })
    }
    const invocations = await drain()
    expect(invocations.length).toBeGreaterThan(1)
    expect(withinLimits(invocations).filter((x) => !x.d1 || !x.kv)).toEqual([])
    let built = 0
    for (let cursor: string | undefined, done = false; !done; ) {
      const page = await env.KV.list({ prefix: `contact:${SITE}:`, cursor })
      built += page.keys.length
      done = page.list_complete
      cursor = page.list_complete ? undefined : page.cursor
    }
    expect(built).toBe(CONTACTS)
    const snapshot = await env.KV.get<{ m: Record<string, number> }>(`contact:${SITE}:${id(1)}`, 'json')
    expect(Object.keys(snapshot!.m)).toEqual(['seg_rock'])
  }, 120_000)

  it('writes a full batch of visits, each from another site\'s contact, within the limits', async () => {
    const now = Date.now()
    const messages: QueueMessage[] = Array.from({ length: MAX_BATCH_SIZE }, (_, i) => ({
      kind: 'visit',
      id: eid(),
      siteId: SITE,
      contactId: id(i),
      v: now,
      activities: [{ id: eid(), type: 'page_visit', at: now, url: `${ORIGIN}/rock/${i}` }],
      fields: i % 2 ? { email: `${id(i)}@example.com` } : ({} as Record<string, string>),
      statics: [],
      counters: [],
    }))
    edge.queue.push(...messages)
    const invocations = await drain()
    expect(withinLimits(invocations).filter((x) => !x.d1 || !x.kv)).toEqual([])
    const written = await rowsOf<{ n: number }>(SITE, `SELECT count(*) AS n FROM events WHERE site_id = ?1 AND url LIKE '%/rock/%'`, SITE)
    expect(written.reduce((sum, r) => sum + r.n, 0)).toBe(MAX_BATCH_SIZE)
  }, 60_000)
})

describe('an admin request', () => {
  it('upserts 1,000 contacts in one request within the limits, and the queue rebuilds their snapshots within them too', async () => {
    const usage = new Usage()
    const uncounted = edge.env
    edge.env = instrumented(uncounted, usage)
    const res = await edge.admin('POST', `/sites/${SITE}/contacts/batch`, { contacts: Array.from({ length: 1_000 }, (_, i) => ({ id: `bulk-${i}`, fields: { city: 'Lyon' } })) })
    edge.env = uncounted
    expect(res.status).toBe(200)
    expect(usage.d1Calls).toBeLessThanOrEqual(20)
    expect(usage.kvOps).toBeLessThanOrEqual(5)
    const refreshes = edge.queue.filter((m) => m.kind === 'refresh')
    expect(refreshes.flatMap((m) => (m.kind === 'refresh' ? m.contactIds : []))).toHaveLength(1_000)
    expect(withinLimits(await drain()).filter((x) => !x.d1 || !x.kv)).toEqual([])
  }, 60_000)

  it('backfills a new segment over every contact of the site in a few queries', async () => {
    const usage = new Usage()
    const res = await edge.fetch(`/api/v1/sites/${SITE}/segments`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'seg_jazz', name: 'Jazz', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/jazz' } }] } }),
    }, instrumented(edge.env, usage))
    expect(res.status).toBe(201)
    expect((await res.json<{ backfill: { added: number } }>()).backfill.added).toBe(CONTACTS / 2)
    expect(usage.d1Calls).toBeLessThanOrEqual(20)
    expect(usage.kvOps).toBeLessThanOrEqual(5)
  })
})

describe('the scheduled pass', () => {
  it('hands every site to the queue in a few calls, and each invocation does as many sites as fit', async () => {
    const now = Date.now()
    const SITES = 300
    const many = Array.from({ length: SITES }, (_, i) => `many-${i}`)
    // Each spread over both shards: a site's share of the pass runs on every shard it has.
    for (const name of BOTH_SHARDS) {
      const shard = database(env, name)
      await shard.batch(many.map((siteId) => siteOnShard(shard, siteId, now)))
    }
    await env.DB.batch(many.map((siteId, i) => saveSite(env.DB, { id: siteId, key: `pk_many_${i}_test`, name: `Many ${i}`, allowedOrigins: [], fields: [], browserFields: [], identitySecret: newIdentitySecret(), identitySecretCreatedAt: now, trustUnsignedIdentify: false, limits: DEFAULT_LIMITS, shards: BOTH_SHARDS, createdAt: now, updatedAt: now })))
    edge.queue.splice(0)
    const usage = new Usage()
    const { runScheduled } = await import('../../worker/background/cron')
    const { sites } = await runScheduled(instrumented(edge.env, usage), now)
    expect(sites).toBeGreaterThanOrEqual(SITES)
    // One read of the sites, the deployment-wide upkeep, and a send a hundred sites; the upkeep (a chunk
    // of old ids forgotten, the planner's statistics) runs on every database, each shard as the control one.
    const databases = d1Bindings(env)
    expect(Object.keys(usage.d1CallsBy).sort()).toEqual([...databases].sort())
    expect(usage.d1Calls).toBeLessThanOrEqual(5 + 2 * (databases.length - 1))
    expect(usage.queueSends).toBe(Math.ceil(sites / 100))
    const invocations = await drain()
    expect(invocations.length).toBeGreaterThan(1)
    expect(withinLimits(invocations).filter((x) => !x.d1 || !x.kv)).toEqual([])
    const published = await Promise.all(Array.from({ length: SITES }, (_, i) => env.KV.get(`site:pk_many_${i}_test`)))
    expect(published.filter((c) => c === null)).toEqual([])
  }, 120_000)
})
