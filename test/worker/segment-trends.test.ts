/**
 * Segment trends: the contacts that entered and left a segment each day (counted as memberships are
 * written, on every shard), its member count at the day's scheduled pass, summed over the site's shards,
 * and who reads the segment.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { cronSite } from '../../worker/background/cron'
import { database } from '../../worker/data/shards'
import { getSite } from '../../worker/data/sites'
import { segmentTrend } from '../../worker/segments/trends'
import { Edge, ORIGIN } from './edge-harness'
import { Usage, instrumented } from './instrumented'

const edge = new Edge()
const S = '/sites/trends'
const DAY = 86_400_000

type Json = Record<string, any>

beforeAll(async () => {
  expect((await edge.admin('POST', '/sites', { id: 'trends', key: 'pk_trends_key', name: 'Trends', allowedOrigins: [ORIGIN], shards: 2 })).status).toBe(201)
  await edge.admin('POST', `${S}/segments`, { id: 'seg_vip', name: 'VIP', type: 'static' })
  await edge.admin('POST', `${S}/segments`, { id: 'seg_vip_fans', name: 'VIP fans', type: 'dynamic', conditions: { all: [{ segment: 'seg_vip', op: 'in' }] } })
  await edge.admin('POST', `${S}/content`, { id: 'thanks', name: 'Thanks', format: 'bar', title: 'Thanks' })
  await edge.admin('POST', `${S}/workflows`, {
    id: 'wf_vip', name: 'VIP thanks', status: 'active', start: { trigger: { type: 'page_visit' }, limitation: { segment: 'seg_vip' } },
    entry: 'check', nodes: { check: { type: 'isInSegment', segment: 'seg_vip', yes: 'show' }, show: { type: 'showContent', content: 'thanks' } },
  })
  const contacts = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, fields: { firstName: `T${i}` } }))
  expect((await edge.admin('POST', `${S}/contacts/batch`, { contacts })).status).toBe(200)
})

describe('a segment\'s trend', () => {
  it('counts entries and exits as they happen, and the members at the scheduled pass, over both shards', async () => {
    for (let i = 0; i < 10; i++) expect((await edge.admin('PUT', `${S}/contacts/t${i}/segments/seg_vip`)).status).toBeLessThan(300)
    for (const i of [0, 1, 2]) expect((await edge.admin('DELETE', `${S}/contacts/t${i}/segments/seg_vip`)).status).toBeLessThan(300)
    const before = (await edge.admin<Json>('GET', `${S}/segments/seg_vip/trend?days=7`)).body
    expect(before.days).toHaveLength(7)
    const today = before.days[6]
    expect(today).toMatchObject({ date: new Date().toISOString().slice(0, 10), entered: 10, exited: 3, members: null })
    expect(before.days.slice(0, 6).every((d: Json) => d.entered === 0 && d.exited === 0 && d.members === null)).toBe(true)
    await cronSite(env, 'trends', Date.now())
    const after = (await edge.admin<Json>('GET', `${S}/segments/seg_vip/trend?days=7`)).body
    expect(after.days[6]).toMatchObject({ entered: 10, exited: 3, members: 7 })
    // Both shards hold some of the members: the figures are their sums.
    const perShard = await Promise.all(['SHARD_1', 'SHARD_2'].map(async (name) => (await database(env, name).prepare("SELECT members FROM segment_days WHERE site_id = 'trends' AND segment_id = 'seg_vip'").first<{ members: number }>())?.members ?? 0))
    expect(perShard.every((n) => n > 0)).toBe(true)
    expect(perShard[0] + perShard[1]).toBe(7)
  })

  it('says which workflows and segments read the segment', async () => {
    const { usedBy } = (await edge.admin<Json>('GET', `${S}/segments/seg_vip/trend`)).body
    expect(usedBy).toEqual({ segments: [{ id: 'seg_vip_fans', name: 'VIP fans' }], workflows: [{ id: 'wf_vip', name: 'VIP thanks', nodes: ['start', 'check'] }] })
    expect((await edge.admin<Json>('GET', `${S}/segments/seg_vip_fans/trend`)).body.usedBy).toEqual({ segments: [], workflows: [] })
  })

  it('refuses an unknown segment and a length it does not keep', async () => {
    expect((await edge.admin('GET', `${S}/segments/seg_nope/trend`)).status).toBe(404)
    for (const days of ['0', '401', 'x']) expect((await edge.admin('GET', `${S}/segments/seg_vip/trend?days=${days}`)).status, days).toBe(400)
  })

  it('leaves out days past the ones asked for, and prunes what is older than it keeps', async () => {
    const site = (await getSite(env.DB, 'trends'))!
    const old = Math.floor(Date.now() / DAY) - 500
    await database(env, 'SHARD_1').prepare("INSERT INTO segment_days (site_id, segment_id, day, members, entered, exited) VALUES ('trends', 'seg_vip', ?1, 99, 5, 5)").bind(old).run()
    expect((await segmentTrend(env, site, 'seg_vip', 30)).some((d) => d.members === 99)).toBe(false)
    await cronSite(env, 'trends', Date.now())
    expect(await database(env, 'SHARD_1').prepare("SELECT count(*) AS n FROM segment_days WHERE site_id = 'trends' AND day = ?1").bind(old).first('n')).toBe(0)
  })

  it('reads a trend by the primary key and counts members by segment, one call a shard at the scheduled pass', async () => {
    const usage = new Usage()
    const counted = instrumented(env, usage)
    const site = (await getSite(env.DB, 'trends'))!
    await segmentTrend(counted, site, 'seg_vip', 30)
    await cronSite(counted, 'trends', Date.now())
    const ran = usage.statements.filter((s) => /segment_days/.test(s.sql) && !/^\s*DELETE FROM segment_days WHERE site_id = \?1 AND day/.test(s.sql))
    expect(ran.length).toBeGreaterThanOrEqual(4)
    for (const s of ran) {
      const { results } = await database(env, s.database).prepare(`EXPLAIN QUERY PLAN ${s.sql}`).bind(...s.args).all<{ detail: string }>()
      const lines = results.map((r) => r.detail).filter((d) => /segment_days|segment_members|SEARCH m /.test(d))
      expect(lines.length, s.sql).toBeGreaterThan(0)
      for (const line of lines) {
        expect(line, s.sql).toMatch(/^(SEARCH segment_days USING PRIMARY KEY \(site_id=\? AND segment_id=\? AND day>\?\)|SEARCH m USING (COVERING INDEX|PRIMARY KEY) \S* ?\(site_id=\? AND segment_id=\?\))/)
      }
    }
  })
})

describe('the segment page', () => {
  it('draws the trend with its figures, and lists who reads the segment', async () => {
    const cookie = await edge.consoleCookie('192.0.2.241')
    const html = await (await edge.fetch(`/admin${S}/segments/seg_vip`, { headers: { cookie } })).text()
    expect(html).toContain('<svg class="trend"')
    expect(html).toMatch(/aria-label="Members over the last 30 days: from 7 to 7; 10 entered and 3 left\."/)
    expect(html).toMatch(/Workflow <a href="\/admin\/sites\/trends\/workflows\/wf_vip">VIP thanks<\/a> \(its Start node, node check\)/)
    expect(html).toMatch(/Segment <a href="\/admin\/sites\/trends\/segments\/seg_vip_fans">VIP fans<\/a>/)
    const link = /href="([^"]*export\.csv\?segment=seg_vip)"[^>]*download/.exec(html)
    expect(link).not.toBeNull()
    const csv = await (await edge.fetch(link![1].replace(/&amp;/g, '&'), { headers: { cookie } })).text()
    expect(csv.trim().split('\r\n')).toHaveLength(1 + 7)
  })
})
