/**
 * Admin changes reach the edge through one mechanism: services record what they changed, and every admin
 * API and console request propagates it once answered.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { type SiteConfig } from '../../worker/visits/compile'
import { Edge } from './edge-harness'

const edge = new Edge()
const SITE = 'changes'
const KEY = 'pk_changes_test'
const config = async () => (await env.KV.get<SiteConfig>(`site:${KEY}`, 'json'))!

beforeAll(async () => {
  await edge.seedDemo(SITE, KEY)
})

describe('a change to a site', () => {
  it('is published to the edge by the request that made it', async () => {
    const before = (await config()).version
    await edge.admin('PATCH', `/sites/${SITE}`, { limits: { rate: 'relaxed' } })
    const after = await config()
    expect(after.version).toBeGreaterThan(before)
    expect(after.site.limits).toMatchObject({ rate: 'relaxed' })
  })

  it('moves the config to a new site key and drops the old one', async () => {
    await edge.admin('PATCH', `/sites/${SITE}`, { key: 'pk_changes_renamed' })
    expect(await env.KV.get(`site:${KEY}`)).toBeNull()
    expect(await env.KV.get<SiteConfig>('site:pk_changes_renamed', 'json')).toMatchObject({ site: { id: SITE } })
    await edge.admin('PATCH', `/sites/${SITE}`, { key: KEY })
  })

  it('is not published for a read or a preview', async () => {
    const before = (await config()).version
    await edge.admin('GET', `/sites/${SITE}/segments`)
    await edge.admin('POST', `/sites/${SITE}/segments/preview`, { conditions: { all: [{ field: 'country', op: 'eq', value: 'ES' }] } })
    expect((await config()).version).toBe(before)
  })
})

describe('a change to a contact', () => {
  it('queues its snapshot rebuild, from the admin API', async () => {
    edge.queue.splice(0)
    await edge.admin('PUT', `/sites/${SITE}/contacts/demo-ana/segments/seg_vip`)
    expect(edge.queue).toEqual([{ kind: 'refresh', siteId: SITE, contactIds: ['demo-ana'] }])
    edge.queue.splice(0)
  })

  it('queues nothing when the change is refused', async () => {
    edge.queue.splice(0)
    expect((await edge.admin('PUT', `/sites/${SITE}/contacts/demo-ana/segments/seg_millennials`)).status).toBe(409)
    expect(edge.queue).toEqual([])
  })
})
