/**
 * Reads that name one contact are bounded by that contact, not by its site: every statement the Worker
 * runs for one contact — a visit's decision and write, its snapshot rebuilt, identifies, and each admin
 * route about a contact — is planned with `EXPLAIN QUERY PLAN` on the database that ran it (the shard
 * holding the contact), on a site of thousands of contacts spread over two shards, with and without
 * SQLite's statistics, and none may walk the site.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { database } from '../../worker/data/shards'
import { issueBrowserId } from '../../worker/visits/browser-id'
import { signIdentity } from '../../worker/visits/identity'
import { Edge, ORIGIN, eid, pageVisit } from './edge-harness'
import { dataOf } from './fixtures'
import { type RanStatement, Usage, d1Bindings, instrumented } from './instrumented'

const SITE = 'plans'
const KEY = 'pk_plans_test_key'
const CONTACTS = 3_000
const DAY = 86_400_000
const id = (i: number) => `p${String(i).padStart(5, '0')}`

const usage = new Usage()
const edge = new Edge()
let secret = ''

/** Loads the site's contacts, each with everything about it on the shard that holds it. */
async function load(now: number) {
  const data = await dataOf(SITE)
  for (let from = 0; from < CONTACTS; from += 1_000) {
    const ids = Array.from({ length: 1_000 }, (_, k) => from + k)
    const people = ids.map((i) => ({ id: id(i), b: `${1950 + (i % 60)}-03-0${1 + (i % 9)}`, e: i % 3 === 0 ? `${id(i)}@example.com` : null, s: now - (i % 90) * DAY, i, vip: i % 4 === 0, shown: i % 2 === 0 }))
    for (const [{ db }, list] of data.group(people, (p) => p.id)) {
      const visits = list.flatMap((p) => Array.from({ length: 5 }, (_, j) => ({ id: `${p.id}-${j}`, c: p.id, u: `${ORIGIN}/${j % 2 ? 'rock' : 'jazz'}/${j}`, t: now - ((p.i + j * 7) % 60) * DAY })))
      await db.batch([
        db.prepare(`INSERT INTO contacts (site_id, id, email, birth_date, last_seen_at, custom, created_at) SELECT ?1, r.value ->> '$.id', r.value ->> '$.e', r.value ->> '$.b', r.value ->> '$.s', '{}', ?2 FROM json_each(?3) r`).bind(SITE, now - 100 * DAY, JSON.stringify(list)),
        db.prepare(`INSERT INTO contact_identities (site_id, contact_id, kind, value, verified, created_at) SELECT ?1, r.value ->> '$.id', 'email', r.value ->> '$.e', 1, ?2 FROM json_each(?3) r WHERE r.value ->> '$.e' IS NOT NULL`).bind(SITE, now, JSON.stringify(list)),
        db.prepare(`INSERT INTO events (site_id, id, contact_id, type, at, url) SELECT ?1, r.value ->> '$.id', r.value ->> '$.c', 'page_visit', r.value ->> '$.t', r.value ->> '$.u' FROM json_each(?2) r`).bind(SITE, JSON.stringify(visits)),
        db.prepare(`INSERT INTO segment_members (site_id, segment_id, contact_id, since, source) SELECT ?1, 'seg_vip', r.value ->> '$.id', ?2, 'manual' FROM json_each(?3) r WHERE r.value ->> '$.vip'`).bind(SITE, now, JSON.stringify(list)),
        db.prepare(`INSERT INTO workflow_counters (site_id, contact_id, workflow_id, node_id, runs, last_at) SELECT ?1, r.value ->> '$.id', 'wf_plans', 'show', 1, ?2 FROM json_each(?3) r WHERE r.value ->> '$.shown'`).bind(SITE, now - DAY, JSON.stringify(list)),
      ])
    }
  }
}

/** The columns that narrow a table to one contact. */
const CONTACT_COLUMNS = /\b(contact_id|id|alias_id|value|email|external_id|rowid)=/
/** A site's configuration (segments, workflows, content): read whole by design, and small. */
const CONFIG_TABLES = /^(sites|segments|workflows|content|s|w)$/

/** The lines of a plan that walk a site (or a segment of it) rather than seek a contact. */
function siteScans(plan: string[]): string[] {
  return plan.filter((line) => {
    if (/^SCAN (CONSTANT ROW|json_each|\w+ VIRTUAL TABLE)/.test(line)) return false
    const scan = /^SCAN (\w+)/.exec(line)
    if (scan) return !CONFIG_TABLES.test(scan[1])
    const search = /^SEARCH (\w+) USING [^(]*\((.*)\)$/.exec(line)
    return search !== null && !CONFIG_TABLES.test(search[1]) && !CONTACT_COLUMNS.test(search[2])
  })
}

/** Whether a statement names one of the site's loaded contacts (directly or inside a JSON list). */
const namesAContact = (s: RanStatement) => s.args.some((a) => typeof a === 'string' && /\bp\d{5}\b/.test(a))

async function plansOf(statements: RanStatement[]): Promise<Array<{ sql: string; database: string; plan: string[]; scans: string[] }>> {
  const seen = new Set<string>()
  const out = []
  for (const s of statements) {
    const key = `${s.database}\u0000${s.sql}`
    if (!namesAContact(s) || /^\s*(PRAGMA|ANALYZE)/i.test(s.sql) || seen.has(key)) continue
    seen.add(key)
    // Planned where it ran: the shard holding the contact (or the control database, for a site's config).
    const { results } = await database(env, s.database).prepare(`EXPLAIN QUERY PLAN ${s.sql}`).bind(...s.args).all<{ detail: string }>()
    const plan = results.map((r) => r.detail)
    out.push({ sql: s.sql.replace(/\s+/g, ' ').trim(), database: s.database, plan, scans: siteScans(plan) })
  }
  return out
}

beforeAll(async () => {
  const now = Date.now()
  const site = await edge.admin('POST', '/sites', { id: SITE, key: KEY, name: 'Plans', allowedOrigins: [ORIGIN], fields: [{ key: 'plan', type: 'string' }], shards: 2 })
  secret = site.body.identitySecret.value
  await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_vip', name: 'VIP', type: 'static' })
  await load(now)
  await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_millennials', name: 'Millennials', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] } })
  await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_rock', name: 'Rock fans', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 2 }, within: '30d' }] } })
  await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_vip_rock', name: 'VIP rock fans', type: 'dynamic', conditions: { all: [{ segment: 'seg_vip', op: 'in' }, { segment: 'seg_rock', op: 'in' }] } })
  await edge.admin('POST', `/sites/${SITE}/content`, { id: 'hello', name: 'Hello', format: 'popup', title: 'Hello' })
  await edge.admin('POST', `/sites/${SITE}/workflows`, { id: 'wf_plans', name: 'Hello', status: 'active', start: { trigger: { type: 'page_visit' } }, entry: 'show', nodes: { show: { type: 'showContent', content: 'hello', limitation: { maxPerContact: 3 } } } })
  edge.queue.splice(0)
  edge.env = instrumented(edge.env, usage)

  // What happens for one contact, through the Worker as a browser and an admin reach it.
  const now2 = Date.now()
  const browser = await issueBrowserId(env.STATE_SECRET, SITE, id(42), now2)
  const first = await edge.events({ site: KEY, contact: browser, events: [pageVisit(`${ORIGIN}/rock/1`)] })
  await edge.flush()
  await edge.events({ site: KEY, contact: first.contact, state: first.state, events: [pageVisit(`${ORIGIN}/rock/2`)] })
  // A signed identify naming another known contact: the browser becomes that contact.
  const email = `${id(45)}@example.com`
  const signature = await signIdentity(secret, { kind: 'email', value: email }, Date.now())
  await edge.events({ site: KEY, contact: first.contact, events: [{ id: eid(), type: 'identify', email, signature }] })
  await edge.flush()
  // A segment with a new activity test: the next visit's snapshot lacks its aggregate and D1 fills it.
  await edge.admin('POST', `/sites/${SITE}/segments`, { id: 'seg_buyers', name: 'Buyers', type: 'dynamic', conditions: { all: [{ activity: 'purchase' }] } })
  await edge.events({ site: KEY, contact: await issueBrowserId(env.STATE_SECRET, SITE, id(51), Date.now()), events: [{ id: eid(), type: 'purchase', amount: 20, currency: 'EUR' }] })
  await edge.flush()
  const c = `/sites/${SITE}/contacts`
  await edge.admin('GET', `${c}/${id(60)}`)
  await edge.admin('PATCH', `${c}/${id(60)}`, { fields: { plan: 'gold', country: 'ES' } })
  await edge.admin('GET', `${c}/${id(60)}/segments`)
  await edge.admin('GET', `${c}/${id(60)}/segments/seg_rock/explain`)
  await edge.admin('GET', `${c}/${id(60)}/events`)
  await edge.admin('POST', `${c}/${id(60)}/events`, { events: [{ id: 'crm-1', type: 'page_visit', url: `${ORIGIN}/rock/9`, at: new Date(now2 - DAY).toISOString() }] })
  await edge.admin('PUT', `${c}/${id(60)}/segments/seg_vip`)
  await edge.admin('DELETE', `${c}/${id(60)}/segments/seg_vip`)
  await edge.admin('GET', `${c}/${id(60)}/export`)
  await edge.admin('POST', `${c}/${id(61)}/merge`, { into: id(60) })
  await edge.admin('POST', `${c}/batch`, { contacts: [{ id: id(62), fields: { plan: 'silver' } }, { email: `${id(63)}@example.com`, fields: { plan: 'bronze' } }] })
  await edge.admin('DELETE', `${c}/${id(64)}`)
  await edge.flush()
}, 120_000)

describe('statements about one contact', () => {
  it('were all seen: visits, snapshot rebuilds, identifies and the admin routes about a contact', () => {
    const tables = new Set(usage.statements.filter(namesAContact).flatMap((s) => [...s.sql.matchAll(/\b(?:FROM|INTO|UPDATE|JOIN)\s+(\w+)/gi)].map((m) => m[1])))
    for (const t of ['contacts', 'events', 'segment_members', 'workflow_counters', 'contact_identities', 'contact_aliases', 'processed_messages']) expect(tables).toContain(t)
  })

  it('ran on both shards of the site, each loaded with its share of the contacts', async () => {
    const data = await dataOf(SITE)
    const loaded = await data.each(async (db) => (await db.prepare('SELECT count(*) AS n FROM contacts WHERE site_id = ?1').bind(SITE).first<{ n: number }>())!.n)
    expect(loaded.every((n) => n > CONTACTS / 3)).toBe(true)
    const ran = new Set(usage.statements.filter(namesAContact).map((s) => s.database))
    for (const shard of data.shards) expect(ran).toContain(shard.name)
  })

  it('seek the contact in an index without statistics, as a new database has none', async () => {
    const plans = await plansOf(usage.statements)
    expect(plans.length).toBeGreaterThan(30)
    expect(plans.filter((p) => p.scans.length > 0)).toEqual([])
  })

  it('seek the contact in an index with statistics, as PRAGMA optimize leaves them', async () => {
    const databases = d1Bindings(env).map((name) => database(env, name))
    for (const db of databases) await db.prepare('ANALYZE').run()
    try {
      const plans = await plansOf(usage.statements)
      expect(plans.filter((p) => p.scans.length > 0)).toEqual([])
    } finally {
      for (const db of databases) await db.prepare('DROP TABLE IF EXISTS sqlite_stat1').run().catch(() => undefined)
    }
  })
})
