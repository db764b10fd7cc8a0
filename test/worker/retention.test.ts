/**
 * Data has a lifetime: a site's retention of activities and of anonymous contacts as an admin sets it;
 * dynamic segments that would read past it refused, and so is a retention shorter than a segment reads;
 * the pruning the cron does, in bounded chunks found through indexes on the site and the age; and windowed
 * conditions that mean the same before and after it.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { evaluate } from '../../worker/conditions/evaluate'
import { ACTIVITY_CHUNK, ACTIVITY_ROUNDS, CONTACT_CHUNK, CONTACT_ROUNDS, pruneSite } from '../../worker/background/retention'
import { buildSiteConfig } from '../../worker/background/publish'
import { loadSnapshot } from '../../worker/background/store'
import { pruneActivities, pruneAnonymousContacts, pruneDeadLetters } from '../../worker/data/retention'
import { type Site, getSite } from '../../worker/data/sites'
import { compileSite } from '../../worker/visits/compile'
import { snapshotFacts } from '../../worker/visits/snapshot'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'
import { dataOf, rowsOf } from './fixtures'
import { Usage, instrumented } from './instrumented'

const DAY = 86_400_000
const edge = new Edge()
type Json = Record<string, any>

const siteOf = async (id: string): Promise<Site> => (await getSite(env.DB, id))!
/** Contact ids with this prefix, as many as asked for: `${prefix}0`, `${prefix}1`... */
const ids = (prefix: string, count = 10_000) => Array.from({ length: count }, (_, i) => `${prefix}${i}`)
const visitAt = (daysAgo: number, id = eid()) => ({ id, type: 'page_visit', url: `${ORIGIN}/`, at: new Date(Date.now() - daysAgo * DAY).toISOString() })

/** Writes contacts straight to D1, each on its shard: id, email, external id, last seen and created, `days` ago. */
async function putContacts(siteId: string, rows: Array<{ id: string; email?: string; externalId?: string; seen?: number; created: number }>) {
  const now = Date.now()
  const people = rows.map((r) => ({ id: r.id, e: r.email ?? null, x: r.externalId ?? null, s: r.seen === undefined ? null : now - r.seen * DAY, c: now - r.created * DAY }))
  for (const [{ db }, list] of (await dataOf(siteId)).group(people, (p) => p.id)) {
    await db.prepare(
      `INSERT INTO contacts (site_id, id, email, external_id, last_seen_at, custom, created_at)
       SELECT ?1, r.value ->> '$.id', r.value ->> '$.e', r.value ->> '$.x', r.value ->> '$.s', '{}', r.value ->> '$.c' FROM json_each(?2) r`,
    ).bind(siteId, JSON.stringify(list)).run()
  }
}

/** Writes page visits straight to D1, each on its contact's shard: [contact, days ago] each, in statements of 5,000. */
async function putVisits(siteId: string, visits: Array<[contact: string, daysAgo: number]>, prefix = 'v') {
  const now = Date.now()
  const rows = visits.map(([c, d], i) => ({ id: `${prefix}${i}`, c, t: now - d * DAY }))
  for (const [{ db }, list] of (await dataOf(siteId)).group(rows, (r) => r.c)) {
    for (let from = 0; from < list.length; from += 5_000) {
      await db.prepare(
        `INSERT INTO events (site_id, id, contact_id, type, at, url)
         SELECT ?1, r.value ->> '$.id', r.value ->> '$.c', 'page_visit', r.value ->> '$.t', 'https://shop.example/' FROM json_each(?2) r`,
      ).bind(siteId, JSON.stringify(list.slice(from, from + 5_000))).run()
    }
  }
}

/**
 * How many rows of each table that holds contact ids still name this id, by table and column, in every
 * database the site keeps anything in: the control database (dead letters) and each of its shards.
 */
async function rowsNaming(siteId: string, contactId: string): Promise<Record<string, number>> {
  const data = await dataOf(siteId)
  const out: Record<string, number> = {}
  for (const db of new Set([data.control, ...data.all])) {
    const { results: tables } = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'").all<{ name: string }>()
    for (const { name } of tables) {
      const { results: columns } = await db.prepare(`PRAGMA table_info(${name})`).all<{ name: string }>()
      for (const { name: column } of columns) {
        if (column !== 'contact_id' && column !== 'alias_id' && !(name === 'contacts' && column === 'id')) continue
        const row = await db.prepare(`SELECT count(*) AS n FROM ${name} WHERE site_id = ?1 AND ${column} = ?2`).bind(siteId, contactId).first<{ n: number }>()
        out[`${name}.${column}`] = (out[`${name}.${column}`] ?? 0) + row!.n
      }
    }
  }
  return out
}

describe("a site's retention", () => {
  it('is 13 months of activities and of anonymous contacts unless set, and is set in days within bounds', async () => {
    const created = await edge.admin('POST', '/sites', { id: 'ret-api', name: 'Retention' })
    expect(created.body.retention).toEqual({ activityDays: 396, anonymousContactDays: 396 })
    const patched = await edge.admin('PATCH', '/sites/ret-api', { retention: { anonymousContactDays: 90 } })
    expect(patched.body.retention).toEqual({ activityDays: 396, anonymousContactDays: 90 })
    const long = await edge.admin('POST', '/sites', { id: 'ret-api-long', name: 'Kept long', retention: { activityDays: 3650 } })
    expect(long.body.retention).toEqual({ activityDays: 3650, anonymousContactDays: 396 })
  })

  it('refuses a retention under 30 days, over ten years, in parts of a day or of another kind, and keeps the one it had', async () => {
    const short = await edge.admin('PATCH', '/sites/ret-api', { retention: { activityDays: 29 } })
    expect(short.status).toBe(400)
    expect(short.body.error.issues).toEqual([{ path: 'retention.activityDays', message: 'must be at least 30 days' }])
    for (const retention of [{ activityDays: 3651 }, { anonymousContactDays: 30.5 }, { activityDays: '400' }, { forever: true }]) {
      expect((await edge.admin('PATCH', '/sites/ret-api', { retention })).status, JSON.stringify(retention)).toBe(400)
    }
    expect((await edge.admin('GET', '/sites/ret-api')).body.retention).toEqual({ activityDays: 396, anonymousContactDays: 90 })
  })
})

describe('dynamic segments and the retention of activities', () => {
  const S = '/sites/ret-seg'
  const create = (id: string, ...clauses: unknown[]) => edge.admin('POST', `${S}/segments`, { id, name: id, type: 'dynamic', conditions: { all: clauses } })

  it('refuses a window longer than the site keeps activities, saying which clause and how long the site keeps them', async () => {
    await edge.admin('POST', '/sites', { id: 'ret-seg', name: 'Windows' })
    const res = await create('seg_far', { field: 'country', op: 'eq', value: 'ES' }, { activity: 'page_visit', count: { op: 'gte', value: 3 }, within: '500d' })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'beyond_retention', field: 'conditions' })
    expect(res.body.error.issues).toEqual([{
      path: 'conditions.all[1]',
      message: 'within "500d" reads activities 500 days back, but this site keeps them for 396 days: read less far back, or keep activities longer in the site\'s settings',
    }])
    expect((await edge.admin('GET', `${S}/segments`)).body.items).toEqual([])
  })

  it('refuses first and last tests that name a longer duration or an earlier date, and takes what stays within', async () => {
    const twoYearsAgo = new Date(Date.now() - 730 * DAY).toISOString().slice(0, 10)
    for (const [clause, what] of [
      [{ activity: 'purchase', last: { op: 'withinLast', value: '400d' } }, 'last withinLast "400d"'],
      [{ activity: 'purchase', first: { op: 'olderThan', value: '57w' } }, 'first olderThan "57w"'],
      [{ activity: 'purchase', last: { op: 'before', value: twoYearsAgo } }, `last before "${twoYearsAgo}"`],
    ] as const) {
      const res = await create('seg_refused', clause)
      expect(res.status, what).toBe(400)
      expect(res.body.error.issues[0].message, what).toContain(`${what} reads activities`)
    }
    expect((await create('seg_year', { activity: 'page_visit', within: '396d' })).status).toBe(201)
    expect((await create('seg_lapsed', { activity: 'purchase', last: { op: 'olderThan', value: '90d' } })).status).toBe(201)
    expect((await create('seg_ever', { activity: 'purchase', count: { op: 'gte', value: 3 } })).status).toBe(201)
  })

  it('refuses the same in an update and a preview, and changes nothing', async () => {
    const far = { all: [{ activity: 'page_visit', within: '9600h' }] }
    const update = await edge.admin('PATCH', `${S}/segments/seg_year`, { conditions: far })
    expect(update.status).toBe(400)
    expect(update.body.error.issues[0]).toMatchObject({ path: 'conditions.all[0]', message: expect.stringContaining('400 days back') })
    expect((await edge.admin('GET', `${S}/segments/seg_year`)).body.conditions).toEqual({ all: [{ activity: 'page_visit', within: '396d' }] })
    expect((await edge.admin('POST', `${S}/segments/preview`, { conditions: far })).body.error.code).toBe('beyond_retention')
  })

  it('takes a longer window once activities are kept longer, and refuses to shorten their retention under it, naming the segment', async () => {
    expect((await edge.admin('PATCH', '/sites/ret-seg', { retention: { activityDays: 730 } })).status).toBe(200)
    expect((await create('seg_far', { activity: 'page_visit', within: '500d' })).status).toBe(201)
    const shorter = await edge.admin('PATCH', '/sites/ret-seg', { retention: { activityDays: 396, anonymousContactDays: 30 } })
    expect(shorter.status).toBe(409)
    expect(shorter.body.error).toMatchObject({
      code: 'retention_in_use',
      field: 'retention.activityDays',
      message: 'Segment "seg_far" reads activities 500 days back (conditions.all[0], within "500d"); keep activities at least that long, or change the segment first',
      usedBy: [{ id: 'seg_far', name: 'seg_far' }],
    })
    expect((await edge.admin('GET', '/sites/ret-seg')).body.retention).toEqual({ activityDays: 730, anonymousContactDays: 396 })
    expect((await edge.admin('PATCH', '/sites/ret-seg', { retention: { activityDays: 500, anonymousContactDays: 30 } })).body.retention).toEqual({ activityDays: 500, anonymousContactDays: 30 })
  })
})

describe('pruning', () => {
  it('deletes activities and dead letters older than the site keeps them, and nothing newer nor of another site', async () => {
    await edge.admin('POST', '/sites', { id: 'prune-a', name: 'A' })
    await edge.admin('POST', '/sites', { id: 'prune-b', name: 'B', retention: { activityDays: 3650 } })
    for (const site of ['prune-a', 'prune-b']) {
      await putContacts(site, [{ id: 'ana', email: 'ana@example.com', seen: 1, created: 900 }])
      await putVisits(site, [['ana', 10], ['ana', 395], ['ana', 397], ['ana', 800]])
      await env.DB.prepare(
        `INSERT INTO dead_letters (id, site_id, kind, contact_id, body, reason, outcome, created_at)
         VALUES (?1 || '-old', ?1, 'visit', 'ana', '{}', 'D1_ERROR', 'held', ?2), (?1 || '-new', ?1, 'visit', 'ana', '{}', 'D1_ERROR', 'held', ?3)`,
      ).bind(site, Date.now() - 400 * DAY, Date.now() - DAY).run()
    }
    expect(await pruneSite(env, await siteOf('prune-a'), Date.now())).toEqual({ activities: 2, registers: 0, deadLetters: 1, contacts: 0, more: false })
    expect(await pruneSite(env, await siteOf('prune-b'), Date.now())).toEqual({ activities: 0, registers: 0, deadLetters: 0, contacts: 0, more: false })
    const kept = async (site: string) => (await edge.admin('GET', `/sites/${site}/contacts/ana/events`)).body.items.length
    expect([await kept('prune-a'), await kept('prune-b')]).toEqual([2, 4])
    expect((await edge.admin('GET', '/sites/prune-a/dead-letters')).body.items.map((d: Json) => d.id)).toEqual(['prune-a-new'])
  })

  it('deletes anonymous contacts not seen for longer than the site keeps them, with everything about them, and keeps known ones', async () => {
    const site = 'prune-c'
    await edge.admin('POST', '/sites', { id: site, name: 'C', retention: { activityDays: 3650, anonymousContactDays: 396 }, shards: 2 })
    await edge.admin('POST', `/sites/${site}/segments`, { id: 'seg_vip', name: 'VIP', type: 'static' })
    await putContacts(site, [
      { id: 'anon-old', seen: 400, created: 800 },
      { id: 'anon-never', created: 400 },
      { id: 'anon-recent', seen: 10, created: 800 },
      { id: 'anon-new', created: 10 },
      { id: 'known-email', email: 'kim@example.com', seen: 800, created: 900 },
      { id: 'known-external', externalId: 'crm-7', seen: 800, created: 900 },
      { id: 'known-merged', seen: 800, created: 900 },
    ])
    await putVisits(site, [['anon-old', 400], ['anon-old', 450], ['anon-recent', 10], ['known-merged', 800]])
    const now = Date.now()
    const data = await dataOf(site)
    const old = data.of('anon-old')
    await old.batch([
      old.prepare("INSERT INTO segment_members (site_id, segment_id, contact_id, since, source) VALUES (?1, 'seg_vip', 'anon-old', ?2, 'manual')").bind(site, now),
      old.prepare("INSERT INTO workflow_counters (site_id, contact_id, workflow_id, node_id, runs, last_at) VALUES (?1, 'anon-old', 'wf', 'show', 2, ?2)").bind(site, now - 400 * DAY),
      old.prepare("INSERT INTO contact_identities (site_id, contact_id, kind, value, verified, created_at) VALUES (?1, 'anon-old', 'email', 'claimed@example.com', 0, ?2)").bind(site, now),
    ])
    await data.of('known-merged').prepare("INSERT INTO contact_identities (site_id, contact_id, kind, value, verified, created_at) VALUES (?1, 'known-merged', 'email', 'merged@example.com', 1, ?2)").bind(site, now).run()
    // An alias lives in its own id's shard and in its contact's, as a merge leaves it.
    for (const db of new Set([old, data.of('anon-older')])) {
      await db.prepare("INSERT INTO contact_aliases (site_id, alias_id, contact_id, created_at, source) VALUES (?1, 'anon-older', 'anon-old', ?2, 'merge')").bind(site, now - 500 * DAY).run()
    }
    await env.DB.prepare("INSERT INTO dead_letters (id, site_id, kind, contact_id, body, reason, outcome, created_at) VALUES ('dl-old', ?1, 'visit', 'anon-old', '{}', 'D1_ERROR', 'held', ?2), ('dl-older', ?1, 'visit', 'anon-older', '{}', 'D1_ERROR', 'held', ?2)").bind(site, now - 399 * DAY).run()
    const before = await rowsNaming(site, 'anon-old')
    for (const column of ['contacts.id', 'events.contact_id', 'segment_members.contact_id', 'workflow_counters.contact_id', 'contact_identities.contact_id', 'contact_aliases.contact_id', 'dead_letters.contact_id']) {
      expect(before[column], column).toBeGreaterThan(0)
    }
    expect(await pruneSite(env, await siteOf(site), Date.now())).toMatchObject({ activities: 0, contacts: 2, more: false })
    const kept = await rowsOf<{ id: string }>(site, 'SELECT id FROM contacts WHERE site_id = ?1', site)
    expect(kept.map((r) => r.id).sort()).toEqual(['anon-new', 'anon-recent', 'known-email', 'known-external', 'known-merged'])
    for (const gone of ['anon-old', 'anon-never', 'anon-older']) {
      expect(Object.entries(await rowsNaming(site, gone)).filter(([, n]) => n > 0), gone).toEqual([])
    }
    expect((await edge.admin('GET', `/sites/${site}/contacts/known-merged/events`)).body.items).toHaveLength(1)
  })

  it('lets the browser of a pruned contact come back as a contact with nothing but its new visit', async () => {
    await edge.admin('POST', '/sites', { id: 'prune-back', key: 'pk_prune_back_test', name: 'Back', allowedOrigins: [ORIGIN] })
    const first = await edge.events({ site: 'pk_prune_back_test', events: [pageVisit(`${ORIGIN}/first`)] })
    await edge.flush()
    const id = await edge.contactOf('prune-back', first)
    const db = (await dataOf('prune-back')).of(id)
    await db.batch([
      db.prepare('UPDATE contacts SET last_seen_at = ?3, created_at = ?3 WHERE site_id = ?1 AND id = ?2').bind('prune-back', id, Date.now() - 400 * DAY),
      db.prepare('UPDATE events SET at = ?3 WHERE site_id = ?1 AND contact_id = ?2').bind('prune-back', id, Date.now() - 400 * DAY),
    ])
    expect(await pruneSite(env, await siteOf('prune-back'), Date.now())).toMatchObject({ contacts: 1 })
    expect((await edge.admin('GET', `/sites/prune-back/contacts/${id}`)).status).toBe(404)
    await edge.events({ site: 'pk_prune_back_test', contact: first.contact, state: first.state, events: [pageVisit(`${ORIGIN}/again`)] })
    await edge.flush()
    const events = (await edge.admin('GET', `/sites/prune-back/contacts/${id}/events`)).body.items
    expect(events.map((e: Json) => e.url)).toEqual([`${ORIGIN}/again`])
  })

  it('works in bounded chunks: a call makes a fixed number of D1 calls and no KV operation, and says whether more is left', async () => {
    const site = 'prune-d'
    await edge.admin('POST', '/sites', { id: site, name: 'D', shards: 2 })
    const data = await dataOf(site)
    const shards = data.shards.map((s) => s.name)
    expect(shards).toHaveLength(2)
    // On each shard, a known contact with more old activities, and more anonymous contacts unseen, than a call prunes.
    const activities = ACTIVITY_CHUNK * ACTIVITY_ROUNDS + 300
    const contacts = CONTACT_CHUNK * CONTACT_ROUNDS + 20
    const known = shards.map((name) => ids('kim-').find((id) => data.shardOf(id).name === name)!)
    const anonymous = shards.flatMap((name) => ids('anon-').filter((id) => data.shardOf(id).name === name).slice(0, contacts))
    await putContacts(site, [...known.map((id) => ({ id, email: `${id}@example.com`, seen: 1, created: 900 })), ...anonymous.map((id) => ({ id, seen: 500, created: 600 }))])
    await putVisits(site, known.flatMap((id) => Array.from({ length: activities }, (_, i) => [id, 400 + (i % 300)] as [string, number])))
    const usage = new Usage()
    const counted = instrumented(env, usage)
    const perShard = (n: number) => Object.fromEntries(shards.map((name) => [name, n]))
    expect(await pruneSite(counted, await siteOf(site), Date.now())).toEqual({ activities: shards.length * ACTIVITY_CHUNK * ACTIVITY_ROUNDS, registers: 0, deadLetters: 0, contacts: shards.length * CONTACT_CHUNK * CONTACT_ROUNDS, more: true })
    // One round of dead letters on the control database (it finds none), and every round on each shard;
    // once a shard's contact rounds have pruned, one call clears what those contacts leave on the control
    // database (dead letters) and one on the other shard (alias rows).
    const others = shards.length - 1
    expect(usage.d1CallsBy).toEqual({ DB: 1 + shards.length, ...perShard(ACTIVITY_ROUNDS + CONTACT_ROUNDS + others) })
    for (const name of shards) expect(usage.statements.filter((s) => s.database === name).length, name).toBeLessThan(100)
    expect(usage.kvOps).toBe(0)
    usage.reset()
    expect(await pruneSite(counted, await siteOf(site), Date.now())).toEqual({ activities: shards.length * 300, registers: 0, deadLetters: 0, contacts: shards.length * 20, more: false })
    expect(usage.d1CallsBy).toEqual({ DB: 1 + shards.length, ...perShard(2 + others) })
  }, 60_000)

  it('finds what it deletes through indexes on the site and the age: on a loaded site a chunk reads about what it deletes', async () => {
    const site = 'prune-e'
    const CONTACTS = 20_000
    await edge.admin('POST', '/sites', { id: site, name: 'E' })
    // A third known; one anonymous contact in a hundred last seen 500 days ago; one visit in a hundred older than 396 days.
    await putContacts(site, Array.from({ length: CONTACTS }, (_, i) => ({ id: `c${i}`, email: i % 3 === 0 ? `c${i}@example.com` : undefined, seen: i % 100 === 1 ? 500 : i % 300, created: 600 })))
    await putVisits(site, Array.from({ length: CONTACTS * 10 }, (_, i) => [`c${Math.floor(i / 10)}`, i % 100 === 7 ? 400 + (i % 50) : i % 390] as [string, number]))
    const now = Date.now()
    // The site is on one shard (the default): all its contacts and activities load that one database.
    const placed = (await dataOf(site)).all
    expect(placed).toHaveLength(1)
    const [shard] = placed
    const statements = (before: number): Array<[D1Database, D1PreparedStatement]> => [
      [shard, pruneActivities(shard, site, before, ACTIVITY_CHUNK)],
      [env.DB, pruneDeadLetters(env.DB, site, before, ACTIVITY_CHUNK)],
      ...pruneAnonymousContacts(shard, site, before, CONTACT_CHUNK).map((st): [D1Database, D1PreparedStatement] => [shard, st]),
    ]
    for (const [db, st] of statements(now - 396 * DAY)) {
      const { statement, params } = st as unknown as { statement: string; params: unknown[] }
      const plan = (await db.prepare(`EXPLAIN QUERY PLAN ${statement}`).bind(...params).all<{ detail: string }>()).results.map((r) => r.detail)
      expect(plan.filter((line) => /^SCAN /.test(line)), statement).toEqual([])
      expect(plan.some((line) => /USING (COVERING )?INDEX (events_type \(site_id=\? AND type=\? AND at<\?\)|contacts_anonymous_seen \(site_id=\? AND <expr><\?\)|dead_letters_site \(site_id=\? AND created_at<\?\))/.test(line)), plan.join('\n')).toBe(true)
    }
    // Each database runs its own statements, as pruneSite does.
    const run = async (before: number) => {
      const all = statements(before)
      const [letters] = await env.DB.batch(all.filter(([db]) => db === env.DB).map(([, st]) => st))
      const [events, ...contacts] = await shard.batch(all.filter(([db]) => db === shard).map(([, st]) => st))
      return [events, letters, ...contacts]
    }
    const [events, letters, ...contacts] = await run(now - 396 * DAY)
    expect(events.meta.changes).toBe(ACTIVITY_CHUNK)
    expect(events.meta.rows_read).toBeLessThan(5 * ACTIVITY_CHUNK)
    expect(letters.meta.rows_read).toBeLessThan(10)
    expect(contacts[contacts.length - 1].meta.changes).toBe(Math.ceil(CONTACTS / 100 / 3 * 2))
    for (const r of contacts) expect(r.meta.rows_read).toBeLessThan(10 * (r.meta.changes + CONTACTS / 100))
    // Nothing left to prune costs a few rows (a seek per activity type), not a walk of 20,000 contacts and 200,000 activities.
    const idle = await run(now - 3000 * DAY)
    for (const r of idle) expect(r.meta.rows_read).toBeLessThan(20)
  }, 120_000)

  it('runs from the cron, for every site', async () => {
    await edge.admin('POST', '/sites', { id: 'prune-cron', name: 'Cron' })
    await putContacts('prune-cron', [{ id: 'ana', email: 'ana@example.com', seen: 1, created: 900 }])
    await putVisits('prune-cron', [['ana', 1], ['ana', 500]])
    const { runScheduled } = await import('../../worker/background/cron')
    const at = Date.now()
    await runScheduled(edge.env, at)
    // The pass hands each site to the queue; this site's share prunes it.
    expect(edge.queue).toContainEqual({ kind: 'cron', siteId: 'prune-cron', at })
    edge.queue.splice(0, edge.queue.length, ...edge.queue.filter((m) => m.kind === 'cron' && m.siteId === 'prune-cron'))
    await edge.flush()
    edge.queue.splice(0)
    expect((await edge.admin('GET', '/sites/prune-cron/contacts/ana/events')).body.items).toHaveLength(1)
  }, 60_000)
})

describe('windowed conditions after pruning', () => {
  const KEY = 'pk_windows_test'
  const S = '/sites/windows'

  beforeAll(async () => {
    await edge.admin('POST', '/sites', { id: 'windows', key: KEY, name: 'Windows', allowedOrigins: [ORIGIN] })
    await edge.admin('POST', `${S}/segments`, { id: 'seg_regulars', name: 'Regulars', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', count: { op: 'gte', value: 3 }, within: '30d' }] } })
    await edge.admin('POST', `${S}/segments`, { id: 'seg_loyal', name: 'Loyal', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', count: { op: 'gte', value: 5 } }] } })
    await edge.admin('POST', `${S}/content`, { id: 'thanks', name: 'Thanks', format: 'popup', title: 'Thanks for coming back' })
    await edge.admin('POST', `${S}/workflows`, { name: 'Thank regulars', status: 'active', start: { trigger: { type: 'page_visit' } }, entry: 'a', nodes: { a: { type: 'isInSegment', segment: 'seg_regulars', yes: 'b' }, b: { type: 'showContent', content: 'thanks' } } })
  })

  /** A visitor with three visits in the last 30 days (one today) and four more than 13 months ago. */
  async function regular(): Promise<{ id: string; browser: string }> {
    const first = await edge.events({ site: KEY, events: [pageVisit()] })
    expect(first.content).toEqual([])
    await edge.flush()
    const id = await edge.contactOf('windows', first)
    await edge.admin('POST', `${S}/contacts/${id}/events`, { events: [visitAt(5), visitAt(10), visitAt(400), visitAt(410), visitAt(420), visitAt(430)] })
    await edge.flush()
    return { id, browser: first.contact }
  }

  const segmentsOf = async (id: string) => (await edge.admin('GET', `${S}/contacts/${id}/segments`)).body.items.map((s: Json) => s.id).sort()

  it("keep a contact's membership, its explanation, its snapshot's windowed entries and what it is shown", async () => {
    const { id, browser } = await regular()
    const seen = async () => {
      const now = Date.now()
      const compiled = compileSite((await buildSiteConfig(env.DB, 'windows', now))!)
      const snapshot = (await loadSnapshot(await dataOf('windows'), compiled, id, now))!
      const regulars = compiled.dynamic.find((s) => s.id === 'seg_regulars')!
      return {
        segments: await segmentsOf(id),
        explained: (await edge.admin('GET', `${S}/contacts/${id}/segments/seg_regulars/explain`)).body.conditions.children[0],
        memberships: Object.keys(snapshot.m).sort(),
        windowed: Object.values(snapshot.a).map((a) => a.t),
        atTheEdge: evaluate(regulars.node, snapshotFacts(snapshot, compiled), now),
      }
    }
    const before = await seen()
    expect(before).toMatchObject({ segments: ['seg_loyal', 'seg_regulars'], explained: { met: true, actual: 3 }, atTheEdge: true })
    expect(await pruneSite(env, await siteOf('windows'), Date.now())).toMatchObject({ activities: 4 })
    expect(await seen()).toEqual(before)
    // The browser comes back without its state token: the edge decides on the snapshot in KV.
    const next = await edge.events({ site: KEY, contact: browser, events: [pageVisit()] })
    expect(next.content.map((c) => c.id)).toEqual(['thanks'])
    await edge.flush()
    expect(await segmentsOf(id)).toContain('seg_regulars')
  })

  it('count, with no window, only the activities still kept, from the next visit written after pruning', async () => {
    const { id, browser } = await regular()
    await pruneSite(env, await siteOf('windows'), Date.now())
    await edge.events({ site: KEY, contact: browser, events: [pageVisit()] })
    await edge.flush()
    // Seven visits before pruning, three kept and one more: four, short of "at least 5".
    expect(await segmentsOf(id)).toEqual(['seg_regulars'])
  })
})

describe('what KV keeps of a contact', () => {
  it('expires as long after its last write as the site keeps an anonymous contact unseen', async () => {
    await edge.admin('POST', '/sites', { id: 'kv-ttl', key: 'pk_kv_ttl_test', name: 'KV TTL', allowedOrigins: [ORIGIN], retention: { activityDays: 400, anonymousContactDays: 45 } })
    const answer = await edge.events({ site: 'pk_kv_ttl_test', events: [pageVisit()] })
    await edge.flush()
    const id = await edge.contactOf('kv-ttl', answer)
    const written = await env.KV.getWithMetadata(`contact:kv-ttl:${id}`)
    expect(written.value).not.toBeNull()
    const { keys } = await env.KV.list({ prefix: `contact:kv-ttl:${id}` })
    const left = keys[0].expiration! * 1000 - Date.now()
    expect(left).toBeGreaterThan(44 * 86_400_000)
    expect(left).toBeLessThanOrEqual(45 * 86_400_000)
  })
})
