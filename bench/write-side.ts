/**
 * The write side: the real queue consumer draining batches of visits from distinct returning contacts on
 * a loaded local D1, with D1's own accounts of each query (SQL time, rows read and written, database size)
 * and the KV operations counted, per visit. Run on sites of 10,000 to 1,000,000 contacts, it shows whether
 * a visit costs the same whatever the size of the site.
 */
import { type D1Account, accountedD1 } from './d1-account'
import { consume } from '../worker/background/consumer'
import { type QueueMessage, type VisitMessage } from '../worker/background/messages'
import { type Segment, saveSegment } from '../worker/data/segments'
import { type LoadedSite } from './backfill'

export interface WriteSideRow {
  contacts: number
  visits: number
  /** Per visit: SQL time D1 reports, rows read and written, D1 calls and KV operations. */
  sqlMs: number
  rowsRead: number
  rowsWritten: number
  d1Calls: number
  kvOps: number
  /** Visits written per second of SQL time. */
  visitsPerSqlSecond: number
  /** What D1 grows by per visit (its event row, indexes, counters, the contact's aggregates). */
  bytesPerVisit: number
}

const BATCH = 100
const SEGMENTS: Segment[] = [
  { id: 'seg_ws_millennials', name: 'Millennials', description: '', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }, createdAt: 0, updatedAt: 0 },
  { id: 'seg_ws_rock', name: 'Rock fans', description: '', type: 'dynamic', conditions: { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] }, createdAt: 0, updatedAt: 0 },
  { id: 'seg_ws_seen', name: 'Seen this week', description: '', type: 'dynamic', conditions: { all: [{ field: 'lastSeenAt', op: 'withinLast', value: '7d' }] }, createdAt: 0, updatedAt: 0 },
]

interface Account extends D1Account {
  kvOps: number
  sizeAfter: number
}

function countedKv(kv: KVNamespace, account: Account): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (['get', 'getWithMetadata', 'put', 'delete', 'list'].includes(String(prop))) account.kvOps++
        return value.apply(target, args)
      }
    },
  })
}

/** Hands these messages to the consumer as one batch, as the queue would. */
async function deliver(env: Env, bodies: QueueMessage[]): Promise<void> {
  const messages = bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body, ack: () => undefined, retry: () => undefined }))
  await consume({ queue: 'segue-events', messages, ackAll: () => undefined, retryAll: () => undefined } as unknown as MessageBatch<QueueMessage>, env)
}

/**
 * Writes `rounds` batches of 100 visits, each from another returning contact of the loaded site, after
 * one warm-up visit for each of them (their aggregates are then kept, as they are for any contact seen
 * since the write side keeps them), and accounts for the measured rounds.
 */
export async function writeSideOn(site: LoadedSite, rounds = 5): Promise<WriteSideRow> {
  const { db, kv, siteId } = site
  for (const s of SEGMENTS) await saveSegment(db, siteId, s).run()
  const queued: QueueMessage[] = []
  const queue = { send: async (m: QueueMessage) => void queued.push(m), sendBatch: async (ms: Array<{ body: QueueMessage }>) => void queued.push(...ms.map((m) => m.body)) }
  const base = { DB: db, KV: kv, EVENTS: queue, STATE_SECRET: 'bench-state-secret-0123456789abcdef', SEGUE_ENV: 'test' } as unknown as Env
  const visitors = rounds * BATCH
  // Distinct contacts spread over the whole site.
  const step = Math.max(1, Math.floor(site.contacts / visitors))
  const contactIds = Array.from({ length: visitors }, (_, i) => `c${(i * step) % site.contacts}`)
  let seq = 0
  const visit = (contactId: string): VisitMessage => {
    const at = Date.now()
    seq++
    return {
      kind: 'visit', id: `bench-${seq}`, siteId, contactId, v: at, fields: {}, statics: [], counters: [],
      activities: [{ id: `bench-e${seq}`, type: 'page_visit', at, url: `https://shop.example/${seq % 3 === 0 ? 'rock' : 'jazz'}/${seq}` }],
    }
  }
  for (let i = 0; i < visitors; i += BATCH) await deliver(base, contactIds.slice(i, i + BATCH).map(visit))
  queued.length = 0

  const account: Account = { sqlMs: 0, rowsRead: 0, rowsWritten: 0, d1Calls: 0, kvOps: 0, sizeAfter: 0 }
  const env = { ...base, DB: accountedD1(db, account), KV: countedKv(kv, account) }
  const sizeBefore = (await db.prepare('SELECT 1').all()).meta.size_after ?? 0
  for (let i = 0; i < visitors; i += BATCH) await deliver(env, contactIds.slice(i, i + BATCH).map(visit))
  const per = (n: number) => n / visitors
  return {
    contacts: site.contacts,
    visits: visitors,
    sqlMs: per(account.sqlMs),
    rowsRead: per(account.rowsRead),
    rowsWritten: per(account.rowsWritten),
    d1Calls: per(account.d1Calls),
    kvOps: per(account.kvOps),
    visitsPerSqlSecond: account.sqlMs > 0 ? visitors / (account.sqlMs / 1000) : 0,
    bytesPerVisit: Math.max(0, account.sizeAfter - sizeBefore) / visitors,
  }
}
