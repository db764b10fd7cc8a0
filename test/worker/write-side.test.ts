/**
 * Writing a visit reads what it needs, not the contact's history: the queue consumer folds a visit's new
 * activities into the aggregates kept beside the contact and re-evaluates memberships with the edge's
 * engine. What it writes agrees with the contact's whole history and with SQL, counts an activity once
 * however often it is sent, and loses nothing when two writers change one contact at once.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { writeVisits } from '../../worker/background/write-visits'
import { type VisitMessage } from '../../worker/background/messages'
import { buildSiteConfig } from '../../worker/background/publish'
import { listActivities } from '../../worker/data/events'
import { type Shard, SiteData } from '../../worker/data/shards'
import { refreshStatements } from '../../worker/segments/membership'
import { compileSite } from '../../worker/visits/compile'
import { aggregateHistory } from '../../worker/visits/snapshot'
import { Edge, type EventsAnswer, ORIGIN, eid, pageVisit } from './edge-harness'
import { dataOf } from './fixtures'
import { Usage, instrumented } from './instrumented'

const SITE = 'written'
const KEY = 'pk_written_test'
const edge = new Edge()

const segments = [
  { id: 'seg_millennials', name: 'Millennials', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] } },
  { id: 'seg_rock', name: 'Rock fans', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 2 }, within: '30d' }] } },
  { id: 'seg_spenders', name: 'Spenders', type: 'dynamic', conditions: { all: [{ activity: 'purchase', sum: { op: 'gte', value: 50 } }] } },
  { id: 'seg_vip', name: 'VIP', type: 'static' },
  { id: 'seg_vip_rock', name: 'VIP rock fans', type: 'dynamic', conditions: { all: [{ segment: 'seg_vip', op: 'in' }, { segment: 'seg_rock', op: 'in' }] } },
  { id: 'seg_seen', name: 'Seen this week', type: 'dynamic', conditions: { all: [{ field: 'lastSeenAt', op: 'withinLast', value: '7d' }] } },
]

const contactOf = (a: EventsAnswer) => edge.contactOf(SITE, a)
/** The shard that holds a contact of the site. */
const shardOf = async (id: string) => (await dataOf(SITE)).shardOf(id)
const row = async (id: string) => (await shardOf(id)).db.prepare('SELECT aggregates, state_rev FROM contacts WHERE site_id = ?1 AND id = ?2').bind(SITE, id).first<{ aggregates: string | null; state_rev: number }>()
const members = async (id: string) =>
  (await (await shardOf(id)).db.prepare('SELECT segment_id FROM segment_members WHERE site_id = ?1 AND contact_id = ?2 ORDER BY segment_id').bind(SITE, id).all<{ segment_id: string }>()).results.map((r) => r.segment_id)

/** What D1's whole history says the contact's aggregates are, and what SQL says its memberships should be. */
async function fromHistory(id: string) {
  const now = Date.now()
  const { db } = await shardOf(id)
  const site = compileSite((await buildSiteConfig(env.DB, SITE, now))!)
  const history = aggregateHistory(site, await listActivities(db, SITE, id), now)
  const totals = Object.fromEntries(Object.entries(history.a).map(([k, a]) => [k, [a.n, a.s, a.c, a.f, a.l]]))
  const config = site.config
  const moves = await db.batch(refreshStatements(db, config.site, config.segments, now, [id], true))
  return { totals, moves: moves.flatMap((r) => r.results).length }
}
const storedTotals = async (id: string) =>
  Object.fromEntries(Object.entries((JSON.parse((await row(id))!.aggregates!) as { a: Record<string, { n: number; s: number; c: number; f?: number; l?: number }> }).a).map(([k, a]) => [k, [a.n, a.s, a.c, a.f, a.l]]))

/** A shard with `meanwhile` run just before each batch that writes (a read batch has a handful of statements). */
function beforeWrites(shard: Shard, meanwhile: () => Promise<void>): Shard {
  const db = new Proxy(shard.db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop !== 'batch') return typeof value === 'function' ? value.bind(target) : value
      return async (statements: D1PreparedStatement[]) => {
        if (statements.length > 6) await meanwhile()
        return target.batch(statements)
      }
    },
  })
  return { name: shard.name, db }
}

/** The site's data with one shard in place of its own. */
const withShard = (data: SiteData, shard: Shard) => new SiteData(data.control, data.siteId, data.shards.map((s) => (s.name === shard.name ? shard : s)))

beforeAll(async () => {
  await edge.admin('POST', '/sites', { id: SITE, key: KEY, name: 'Written', allowedOrigins: [ORIGIN], browserFields: ['birthDate'], shards: 2 })
  for (const s of segments) await edge.admin('POST', `/sites/${SITE}/segments`, s)
  await edge.admin('POST', `/sites/${SITE}/content`, { id: 'hi', name: 'Hi', format: 'popup', title: 'Hi' })
  await edge.admin('POST', `/sites/${SITE}/workflows`, {
    id: 'wf_vip', name: 'Rock buyers are VIP', status: 'active', start: { trigger: { type: 'purchase' } }, entry: 'add', nodes: { add: { type: 'addToSegment', segment: 'seg_vip', next: 'show' }, show: { type: 'showContent', content: 'hi' } },
  })
})

describe('a visit written by the queue', () => {
  it('reads the contact\'s state and the ids of its new activities, never its history', async () => {
    const first = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/rock/1`)] })
    await edge.flush()
    const usage = new Usage()
    let answer = first
    for (let i = 2; i <= 4; i++) answer = await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [pageVisit(`${ORIGIN}/rock/${i}`)] })
    await edge.flush(instrumented(edge.env, usage))
    const reads = usage.statements.filter((s) => /^\s*SELECT/i.test(s.sql) && /\bevents\b/.test(s.sql))
    expect(reads.map((s) => s.sql.replace(/\s+/g, ' ').trim())).toEqual([expect.stringMatching(/^SELECT e\.contact_id, e\.id FROM json_each/)])
    // Reads, the write, the site's config and the snapshot rebuild: a handful of calls for three visits.
    expect(usage.d1Calls).toBeLessThanOrEqual(10)
    const id = await contactOf(answer)
    expect(await members(id)).toEqual(['seg_rock', 'seg_seen'])
  })

  it('leaves aggregates and memberships that the whole history and SQL agree with', async () => {
    let answer = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', fields: { birthDate: '1990-05-01' } }, pageVisit(`${ORIGIN}/jazz`)] })
    const steps: Array<Array<Record<string, unknown>>> = [
      [pageVisit(`${ORIGIN}/rock/a`), { id: eid(), type: 'purchase', amount: 30, currency: 'EUR' }],
      [pageVisit(`${ORIGIN}/rock/b`)],
      [{ id: eid(), type: 'purchase', amount: 25.5, currency: 'EUR' }, { id: eid(), type: 'identify', fields: { birthDate: '1970-01-01' } }],
    ]
    for (const events of steps) {
      answer = await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events })
      if (events.length > 1) await edge.flush()
    }
    await edge.flush()
    const id = await contactOf(answer)
    const history = await fromHistory(id)
    expect(await storedTotals(id)).toEqual(history.totals)
    expect(history.moves).toBe(0)
    expect(await members(id)).toEqual(['seg_rock', 'seg_seen', 'seg_spenders', 'seg_vip', 'seg_vip_rock'])
  })

  it('counts an activity once, however many messages carry it', async () => {
    const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/rock/x`)] })
    await edge.flush()
    const again = { id: eid(), type: 'page_visit', url: `${ORIGIN}/rock/y` }
    // A browser that did not hear the answer sends the same event again: two messages, one activity.
    await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [again] })
    await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [again] })
    await edge.flush()
    const id = await contactOf(answer)
    expect((await fromHistory(id)).totals).toEqual(await storedTotals(id))
    expect(Object.values(await storedTotals(id)).map(([n]) => n)).toContain(2)
    expect(await members(id)).toContain('seg_rock')
  })

  it('is written again on what another writer left, when one changed the contact meanwhile', async () => {
    const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/rock/1`)] })
    await edge.flush()
    const id = await contactOf(answer)
    const config = compileSite((await buildSiteConfig(env.DB, SITE))!)
    const data = await dataOf(SITE)
    const visit = (url: string): VisitMessage => ({ kind: 'visit', id: eid(), siteId: SITE, contactId: id, v: Date.now(), activities: [{ id: eid(), type: 'page_visit', at: Date.now(), url }], fields: {}, statics: [], counters: [] })
    // The first writer reads the contact; before it writes, a second one writes a visit of its own.
    let interfered = false
    const racing = beforeWrites(data.shardOf(id), async () => {
      if (interfered) return
      interfered = true
      await writeVisits(data, config, [visit(`${ORIGIN}/rock/meanwhile`)], new Map())
    })
    await expect(writeVisits(withShard(data, racing), config, [visit(`${ORIGIN}/rock/2`)], new Map())).rejects.toThrow(/contact state moved/)
    await writeVisits(data, config, [visit(`${ORIGIN}/rock/2`)], new Map())
    expect((await fromHistory(id)).totals).toEqual(await storedTotals(id))
    expect(Object.values(await storedTotals(id)).map(([n]) => n)).toContain(3)
    expect(await members(id)).toContain('seg_rock')
  })

  it('is retried by the queue, not kept as a dead letter, when another writer got there first', async () => {
    const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/rock/1`)] })
    await edge.flush()
    const id = await contactOf(answer)
    await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [pageVisit(`${ORIGIN}/rock/2`)] })
    let bumps = 0
    const shard = await shardOf(id)
    // Every write of the visit meets a contact another writer has just changed, twice in a row.
    const bumping = beforeWrites(shard, async () => {
      if (bumps++ >= 2) return
      await shard.db.prepare('UPDATE contacts SET state_rev = state_rev + 1 WHERE site_id = ?1 AND id = ?2').bind(SITE, id).run()
    })
    expect(await edge.flush({ [bumping.name]: bumping.db })).toEqual({ acked: 0, retried: 1 })
    expect(await edge.flush()).toEqual({ acked: 1, retried: 0 })
    expect((await env.DB.prepare('SELECT count(*) AS n FROM dead_letters WHERE site_id = ?1').bind(SITE).first<{ n: number }>())!.n).toBe(0)
    expect(await members(id)).toContain('seg_rock')
  })

  it('works out the aggregates again from the activities after an import', async () => {
    const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/rock/1`)] })
    await edge.flush()
    const id = await contactOf(answer)
    await edge.admin('POST', `/sites/${SITE}/contacts/${id}/events`, { events: [{ id: 'crm-r1', type: 'page_visit', url: `${ORIGIN}/rock/old`, at: new Date(Date.now() - 86_400_000).toISOString() }] })
    expect((await row(id))!.aggregates).toBeNull()
    await edge.flush()
    expect(await storedTotals(id)).toEqual((await fromHistory(id)).totals)
    expect(await members(id)).toContain('seg_rock')
  })
})
