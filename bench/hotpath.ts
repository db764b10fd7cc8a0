/**
 * Hot-path I/O: the KV reads and writes and D1 queries one POST /v1/events makes, counted on the real
 * Worker code (run in Node against Miniflare's KV and D1) for a new contact, an id the Worker never
 * issued, a returning contact without a state token, with a fresh one (checked against KV under
 * TOKEN_FRESH_MS ago: the next request of a session) and with an older one, a returning contact whose KV
 * snapshot is stale or missing (the state token carries it, or else D1), an unsigned and a signed identify
 * with a known email, and the first request an isolate ever sees for a site.
 */
import { app } from '../worker/app'
import { createSite } from '../worker/sites/service'
import { createContent } from '../worker/content/service'
import { createSegment } from '../worker/segments/service'
import { createWorkflow } from '../worker/workflows/service'
import { Changes, propagate } from '../worker/background/changes'
import { clearConfigCache } from '../worker/visits/site-cache'
import { openBrowserId } from '../worker/visits/browser-id'
import { TOKEN_FRESH_MS, openState, sealState } from '../worker/visits/token'
import { consume } from '../worker/background/consumer'
import { signIdentity } from '../worker/visits/identity'
import { type QueueMessage } from '../worker/background/messages'
import { contentCreate } from '../worker/content/schema'
import { segmentCreate } from '../worker/segments/schema'
import { siteCreate } from '../worker/sites/schema'
import { workflowCreate } from '../worker/workflows/schema'
import { CONTENT, pageUrl, segments, workflows } from './site.mjs'
import { localStores } from './miniflare'

export interface HotPathRow {
  scenario: string
  kvReads: number
  kvWrites: number
  d1Queries: number
}

function counting<T extends object>(target: T, tally: Record<string, number>, kinds: Record<string, string>): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const kind = kinds[String(prop)]
        if (kind) tally[kind] = (tally[kind] ?? 0) + 1
        return value.apply(t, args)
      }
    },
  })
}

export async function measureHotPath(nSegments = 100, nWorkflows = 20): Promise<HotPathRow[]> {
  // A control database and two shards, as `npm run dev` runs: the site spread over both.
  const { mf, db, kv, shards } = await localStores(undefined, 2)
  try {
    const queued: QueueMessage[] = []
    const queue = { send: async (m: QueueMessage) => void queued.push(m), sendBatch: async (ms: Array<{ body: QueueMessage }>) => void queued.push(...ms.map((m) => m.body)) }
    /** What the queue consumer does after the answers: D1 catches up and the KV snapshots are written. */
    const drain = async () => {
      const messages = queued.splice(0).map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body, ack: () => undefined, retry: () => undefined }))
      await consume({ queue: 'segue-events', messages, ackAll: () => undefined, retryAll: () => undefined } as unknown as MessageBatch<QueueMessage>, base)
    }
    const allowAll = { limit: async () => ({ success: true }) }
    const limiters = Object.fromEntries(['RATE_VISITOR_STRICT', 'RATE_VISITOR', 'RATE_VISITOR_RELAXED', 'RATE_SITE_STRICT', 'RATE_SITE', 'RATE_SITE_RELAXED'].map((name) => [name, allowAll]))
    const base = { ...limiters, DB: db, ...Object.fromEntries(shards.map((s) => [s.name, s.db])), KV: kv, EVENTS: queue, ADMIN_TOKEN: 'bench', STATE_SECRET: 'bench-state-secret-0123456789abcdef', SEGUE_ENV: 'test' } as unknown as Env
    const changes = new Changes()
    const site = await createSite(base, siteCreate.parse({ id: 'bench', name: 'Bench', key: 'pk_bench_hotpath', browserFields: ['birthDate'], shards: 2 }), changes)
    for (const s of segments(nSegments)) await createSegment(base, site, segmentCreate.parse(s), changes)
    for (const c of CONTENT) await createContent(db, site, contentCreate.parse(c), changes)
    for (const w of workflows(nWorkflows, nSegments)) await createWorkflow(db, site, workflowCreate.parse(w), changes)
    await propagate(base, changes)

    const post = async (body: unknown, tally: Record<string, number>) => {
      const env = {
        ...base,
        // Every database counts: the control one and each shard.
        ...Object.fromEntries([['DB', db], ...shards.map((s) => [s.name, s.db])].map(([name, d]) => [name, counting(d as D1Database, tally, { prepare: 'd1', batch: 'd1Batch', exec: 'd1' })])),
        KV: counting(kv, tally, { get: 'kvRead', getWithMetadata: 'kvRead', put: 'kvWrite', delete: 'kvWrite', list: 'kvRead' }),
      }
      const waits: Promise<unknown>[] = []
      const ctx = { waitUntil: (p: Promise<unknown>) => void waits.push(p), passThroughOnException: () => undefined, props: {} }
      const res = await app.fetch(new Request('http://segue.local/v1/events', { method: 'POST', body: JSON.stringify(body) }), env, ctx as never)
      await Promise.all(waits)
      if (res.status !== 200) throw new Error(`hot path answered ${res.status}: ${await res.text()}`)
      return (await res.json()) as { contact: string; state?: string }
    }
    const rows: HotPathRow[] = []
    let n = 0
    const visit = () => ({ id: `hp-${++n}`, type: 'page_visit', url: pageUrl(n) })
    const scenario = async (name: string, body: Record<string, unknown>) => {
      const tally: Record<string, number> = {}
      const answer = await post({ site: site.key, ...body }, tally)
      rows.push({ scenario: name, kvReads: tally.kvRead ?? 0, kvWrites: tally.kvWrite ?? 0, d1Queries: (tally.d1 ?? 0) })
      return answer
    }

    clearConfigCache()
    const first = await scenario('first request an isolate sees for the site (config from KV), new contact', { events: [visit()] })
    const fresh = await scenario('new contact (no id)', { events: [visit()] })
    await scenario('an id the Worker did not issue (made up, or set by an admin): new contact', { contact: 'never-seen-0001', events: [visit()] })
    await drain()
    const returning = await scenario('returning contact (KV snapshot, no state token)', { contact: fresh.contact, events: [visit()] })
    const contactId = (await openBrowserId(base.STATE_SECRET, site.id, returning.contact))!.contactId
    /** The answer's token as a browser holds it once its state was last checked against KV TOKEN_FRESH_MS ago. */
    const aged = async (answer: { state?: string }) => {
      const opened = await openState(base.STATE_SECRET, site.id, contactId, answer.state, Date.now())
      return sealState(base.STATE_SECRET, site.id, opened!.snapshot, Date.now() - TOKEN_FRESH_MS)
    }
    const seconds = TOKEN_FRESH_MS / 1000
    await scenario(`returning contact, state token under ${seconds} s old`, { contact: returning.contact, state: returning.state, events: [visit()] })
    await drain()
    await scenario(`returning contact, state token ${seconds} s old or more (KV snapshot)`, { contact: returning.contact, state: await aged(returning), events: [visit()] })
    await kv.delete(`contact:${site.id}:${contactId}`)
    await scenario(`returning contact, KV missing or stale (state token ${seconds} s old or more)`, { contact: returning.contact, state: await aged(returning), events: [visit()] })
    await scenario('returning contact, KV and token both missing (D1)', { contact: returning.contact, events: [visit()] })
    await db.prepare(`INSERT INTO contacts (site_id, id, email, custom, created_at) VALUES ('bench', 'known', 'known@example.com', '{}', 1)`).run()
    await scenario('unsigned identify with the email of a known contact (a claim)', { contact: first.contact, events: [{ id: `hp-${++n}`, type: 'identify', email: 'known@example.com' }, visit()] })
    const signature = await signIdentity(site.identitySecret, { kind: 'email', value: 'known@example.com' }, Date.now())
    await scenario('signed identify with the email of a known contact (merge)', { contact: first.contact, events: [{ id: `hp-${++n}`, type: 'identify', email: 'known@example.com', signature }, visit()] })
    return rows
  } finally {
    await mf.dispose()
  }
}
