/**
 * Shards: the same contacts on one, two and four data shards. For each placement, a site is spread over
 * that many local D1 databases (the control database `DB` beside them), its contacts loaded each on the
 * shard a hash of its id picks (`shardIndex`), and then measured with Segue's own code: visits written by
 * the real queue consumer, a dynamic segment filled over every shard and its members counted, and what
 * each shard stores. D1's own account of each query (`meta.duration`, rows read and written, size) is
 * summed over the databases. Local workerd runs every database on one thread, so wall time says nothing
 * about shards working side by side on Cloudflare: the figures to compare are summed SQL time and how the
 * load falls on each shard.
 */
import { type D1Account, accountedD1 } from './d1-account'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { consume } from '../worker/background/consumer'
import { type QueueMessage, type VisitMessage } from '../worker/background/messages'
import { type Condition } from '../worker/conditions/types'
import { type Segment, saveSegment } from '../worker/data/segments'
import { shardBytes, shardIndex, siteData } from '../worker/data/shards'
import { DEFAULT_LIMITS, saveSite, siteOnShard } from '../worker/data/sites'
import { refreshStatements } from '../worker/segments/membership'
import { withCounts } from '../worker/segments/service'
import { newIdentitySecret } from '../worker/visits/identity'
import { localStores } from './miniflare'

export interface ShardRow {
  shards: number
  contacts: number
  loadSeconds: number
  visits: number
  /**
   * Per visit, summed over the control database and every shard: SQL time, rows read and written, D1 calls;
   * of the pass (the same visitors again) with the least SQL time.
   */
  sqlMs: number
  /** Each pass's SQL time a visit, in order. */
  sqlMsPasses: number[]
  rowsRead: number
  rowsWritten: number
  d1Calls: number
  /** Of `sqlMs`: the control database's part (the site's config, read once a batch), and each shard's SQL time over the pass. */
  controlSqlMs: number
  sqlMsPerShard: number[]
  /** Of the measured visits, how many each shard's contacts had, and the rows the visits wrote on each. */
  visitsPerShard: number[]
  rowsWrittenPerShard: number[]
  /** The largest shard's share of the rows the visits wrote (1 on one shard; 1/n at best on n). */
  largestWriteShare: number
  /** A new activity segment filled over every shard (each shard's quickest of three fills): members added, SQL time summed and on the slowest shard. */
  backfillMembers: number
  backfillSqlMs: number
  backfillSlowestShardMs: number
  /** The same segment's members counted (`withCounts`: one query a shard, summed), and that count's SQL time. */
  membersCounted: number
  countSqlMs: number
  /** What D1 reports each shard holds, after the load and the visits. */
  bytesPerShard: number[]
}

const SITE = 'bench-shards'
const DAY = 86_400_000
const BATCH = 100
/** Times the measured visitors each visit again, and the segment is filled on each shard; the least counts. */
const PASSES = 4
const FILLS = 3
/** The activity segment of section 4: visited a URL containing /rock at least three times in 30 days. */
const ACTIVITY: Condition = { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] }
/** The segments of the write side (section 7), so a visit moves memberships as it does there. */
const SEGMENTS: Segment[] = [
  { id: 'seg_ws_millennials', name: 'Millennials', description: '', type: 'dynamic', conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }, createdAt: 0, updatedAt: 0 },
  { id: 'seg_ws_rock', name: 'Rock fans', description: '', type: 'dynamic', conditions: ACTIVITY, createdAt: 0, updatedAt: 0 },
  { id: 'seg_ws_seen', name: 'Seen this week', description: '', type: 'dynamic', conditions: { all: [{ field: 'lastSeenAt', op: 'withinLast', value: '7d' }] }, createdAt: 0, updatedAt: 0 },
]
const BACKFILLED: Segment = { id: 'seg_shards_rock', name: 'Rock fans (backfilled)', description: '', type: 'dynamic', conditions: ACTIVITY, createdAt: 0, updatedAt: 0 }

/** `count` distinct contact ids of `c0` … `c<contacts - 1>`, drawn by a seeded generator (mulberry32). */
function drawContacts(contacts: number, count: number): string[] {
  let seed = 0x5e9e
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  const drawn = new Set<number>()
  while (drawn.size < count) drawn.add(Math.floor(next() * contacts))
  return [...drawn].map((i) => `c${i}`)
}

/** The item with the least `key`: what else the machine does can only add to a duration. */
function least<T>(items: readonly T[], key: (item: T) => number): T {
  return items.reduce((best, item) => (key(item) < key(best) ? item : best))
}

type Account = Omit<D1Account, 'sizeAfter'>

const noAccount = (): Account => ({ sqlMs: 0, rowsRead: 0, rowsWritten: 0, d1Calls: 0 })

/** Hands these messages to the consumer as one batch, as the queue would. */
async function deliver(env: Env, bodies: QueueMessage[]): Promise<void> {
  const messages = bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body, ack: () => undefined, retry: () => undefined }))
  await consume({ queue: 'segue-events', messages, ackAll: () => undefined, retryAll: () => undefined } as unknown as MessageBatch<QueueMessage>, env)
}

/**
 * Loads `contacts` contacts with ten page visits each in the last 60 days — the people and visits of
 * section 4's site (bench/backfill.ts) — each contact with its events on the shard its id hashes to.
 */
async function loadContacts(shards: readonly D1Database[], contacts: number, now: number): Promise<void> {
  const CHUNK = 2000
  const insertContacts = `INSERT INTO contacts (site_id, id, birth_date, country, custom, created_at) SELECT ?1, r.value ->> '$.id', r.value ->> '$.b', r.value ->> '$.k', '{}', ?2 FROM json_each(?3) r`
  const insertEvents = `INSERT INTO events (site_id, id, contact_id, type, at, url) SELECT ?1, r.value ->> '$.id', r.value ->> '$.c', 'page_visit', r.value ->> '$.t', r.value ->> '$.u' FROM json_each(?2) r`
  for (let from = 0; from < contacts; from += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, contacts - from) }, (_, k) => from + k)
    const byShard = shards.map(() => [] as number[])
    for (const i of ids) byShard[shardIndex(`c${i}`, shards.length)].push(i)
    await Promise.all(
      shards.map((db, s) => {
        const mine = byShard[s]
        if (mine.length === 0) return Promise.resolve()
        const people = mine.map((i) => ({ id: `c${i}`, b: `${1950 + (i % 60)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`, k: ['ES', 'FR', 'GB', 'DE'][i % 4] }))
        const visits = mine.flatMap((i) => Array.from({ length: 10 }, (_, j) => ({ id: `c${i}-${j}`, c: `c${i}`, u: `https://shop.example/${j % 3 === 0 ? 'rock' : 'jazz'}/${j}`, t: now - ((i + j * 7) % 60) * DAY })))
        const half = Math.ceil(visits.length / 2)
        return db.batch([
          db.prepare(insertContacts).bind(SITE, now, JSON.stringify(people)),
          db.prepare(insertEvents).bind(SITE, JSON.stringify(visits.slice(0, half))),
          db.prepare(insertEvents).bind(SITE, JSON.stringify(visits.slice(half))),
        ])
      }),
    )
  }
}

/** A site placed over `shardCount` fresh local shards (beside a fresh control database), loaded. */
interface Placement {
  shardCount: number
  control: D1Database
  shards: Array<{ name: string; db: D1Database }>
  loadSeconds: number
  /** An Env with these databases, each as given (so they can be accounted), and a queue that keeps what is sent. */
  envWith: (dbs: Record<string, D1Database>) => Env
  queued: QueueMessage[]
  dispose: () => Promise<void>
}

async function place(shardCount: number, contacts: number, now: number, log: (line: string) => void): Promise<Placement> {
  const dir = mkdtempSync(join(tmpdir(), 'segue-shards-'))
  const { mf, db: control, kv, shards } = await localStores(dir, shardCount)
  const dispose = async () => {
    await mf.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const names = shards.map((s) => s.name)
    await Promise.all(shards.map((s) => siteOnShard(s.db, SITE, now).run()))
    await saveSite(control, { id: SITE, key: 'pk_bench_shards', name: 'Bench (shards)', allowedOrigins: [], fields: [], browserFields: [], identitySecret: newIdentitySecret(), identitySecretCreatedAt: now, trustUnsignedIdentify: false, limits: DEFAULT_LIMITS, shards: names, createdAt: now, updatedAt: now }).run()
    for (const s of [...SEGMENTS, BACKFILLED]) await saveSegment(control, SITE, s).run()
    const started = performance.now()
    await loadContacts(shards.map((s) => s.db), contacts, now)
    const loadSeconds = (performance.now() - started) / 1000
    log(`    ${shardCount} shard${shardCount === 1 ? '' : 's'}: loaded ${contacts.toLocaleString('en-US')} contacts in ${loadSeconds.toFixed(1)} s`)
    const queued: QueueMessage[] = []
    const queue = { send: async (m: QueueMessage) => void queued.push(m), sendBatch: async (ms: Array<{ body: QueueMessage }>) => void queued.push(...ms.map((m) => m.body)) }
    const envWith = (dbs: Record<string, D1Database>) => ({ ...dbs, KV: kv, EVENTS: queue, STATE_SECRET: 'bench-state-secret-0123456789abcdef', SEGUE_ENV: 'test' }) as unknown as Env
    return { shardCount, control, shards, loadSeconds, envWith, queued, dispose }
  } catch (err) {
    await dispose()
    throw err
  }
}

interface Pass {
  control: Account
  shards: Account[]
}

/**
 * The same contacts on 1, 2 and 4 shards (or `counts`). Every placement is loaded first; then each
 * measurement takes its turn on every placement before its next repetition, so that whatever else the
 * machine does meanwhile falls on all of them alike.
 */
export async function measureShardCounts(opts: { contacts: number; rounds: number; counts?: number[]; passes?: number; fills?: number }, log: (line: string) => void = () => undefined): Promise<{ contacts: number; rows: ShardRow[] }> {
  const { contacts } = opts
  const now = Date.now()
  const placements: Placement[] = []
  try {
    for (const n of opts.counts ?? [1, 2, 4]) placements.push(await place(n, contacts, now, log))

    // A dynamic segment filled over every contact, each shard alone on the thread, from empty; each
    // shard's quickest fill counts.
    const fills = placements.map((p) => p.shards.map((): Array<{ ms: number; added: number }> => []))
    for (let k = 0; k < (opts.fills ?? FILLS); k++) {
      for (const [i, p] of placements.entries()) {
        for (const [j, s] of p.shards.entries()) {
          await s.db.prepare('DELETE FROM segment_members WHERE site_id = ?1 AND segment_id = ?2').bind(SITE, BACKFILLED.id).run()
          const results = await s.db.batch(refreshStatements(s.db, { id: SITE, fields: [] }, [BACKFILLED], now))
          fills[i][j].push({ ms: results.reduce((n, r) => n + (r.meta.duration ?? 0), 0), added: results[1].meta.changes ?? 0 })
        }
      }
    }
    const counts = await Promise.all(
      placements.map(async (p) => {
        const account = noAccount()
        const env = p.envWith({ DB: p.control, ...Object.fromEntries(p.shards.map((s) => [s.name, accountedD1(s.db, account)])) })
        const [segment] = await withCounts(siteData(env, { id: SITE, shards: p.shards.map((s) => s.name) }), [BACKFILLED])
        return { members: segment.members, sqlMs: account.sqlMs }
      }),
    )

    // Visits from distinct returning contacts drawn at random (the same ones on every placement), written by
    // the real consumer: one warm-up visit each (their aggregates are then kept, as for any contact seen
    // since), then the measured passes. Drawn, not every k-th: ids in step are no sample of a site's visitors.
    const visitors = Math.min(opts.rounds * BATCH, contacts)
    const contactIds = drawContacts(contacts, visitors)
    let seq = 0
    const visit = (contactId: string): VisitMessage => {
      const at = Date.now()
      seq++
      return {
        kind: 'visit', id: `bench-${seq}`, siteId: SITE, contactId, v: at, fields: {}, statics: [], counters: [],
        activities: [{ id: `bench-e${seq}`, type: 'page_visit', at, url: `https://shop.example/${seq % 3 === 0 ? 'rock' : 'jazz'}/${seq}` }],
      }
    }
    const deliverAll = async (env: Env) => {
      for (let i = 0; i < visitors; i += BATCH) await deliver(env, contactIds.slice(i, i + BATCH).map(visit))
    }
    for (const p of placements) {
      await deliverAll(p.envWith({ DB: p.control, ...Object.fromEntries(p.shards.map((s) => [s.name, s.db])) }))
      p.queued.length = 0
    }
    const passes = placements.map((): Pass[] => [])
    for (let k = 0; k < (opts.passes ?? PASSES); k++) {
      for (const [i, p] of placements.entries()) {
        const pass: Pass = { control: noAccount(), shards: p.shards.map(() => noAccount()) }
        await deliverAll(p.envWith({ DB: accountedD1(p.control, pass.control), ...Object.fromEntries(p.shards.map((s, j) => [s.name, accountedD1(s.db, pass.shards[j])])) }))
        if (p.queued.length > 0) throw new Error(`the consumer sent ${p.queued.length} message(s) back to the queue: the measured visits were not all written`)
        passes[i].push(pass)
      }
    }

    const rows: ShardRow[] = []
    for (const [i, p] of placements.entries()) {
      const total = (pass: Pass, key: keyof Account) => [pass.control, ...pass.shards].reduce((n, a) => n + a[key], 0)
      const { control: controlAccount, shards: shardAccounts } = least(passes[i], (pass) => total(pass, 'sqlMs'))
      const sum = (key: keyof Account) => [controlAccount, ...shardAccounts].reduce((n, a) => n + a[key], 0)
      const visitsPerShard = p.shards.map(() => 0)
      for (const id of contactIds) visitsPerShard[shardIndex(id, p.shardCount)]++
      const rowsWrittenPerShard = shardAccounts.map((a) => a.rowsWritten)
      const shardWrites = rowsWrittenPerShard.reduce((n, r) => n + r, 0)
      const backfills = fills[i].map((f) => least(f, (x) => x.ms))
      rows.push({
        shards: p.shardCount,
        contacts,
        loadSeconds: p.loadSeconds,
        visits: visitors,
        sqlMs: sum('sqlMs') / visitors,
        sqlMsPasses: passes[i].map((pass) => total(pass, 'sqlMs') / visitors),
        rowsRead: sum('rowsRead') / visitors,
        rowsWritten: sum('rowsWritten') / visitors,
        d1Calls: sum('d1Calls') / visitors,
        controlSqlMs: controlAccount.sqlMs / visitors,
        sqlMsPerShard: shardAccounts.map((a) => a.sqlMs),
        visitsPerShard,
        rowsWrittenPerShard,
        largestWriteShare: shardWrites > 0 ? Math.max(...rowsWrittenPerShard) / shardWrites : 0,
        backfillMembers: backfills.reduce((n, b) => n + b.added, 0),
        backfillSqlMs: backfills.reduce((n, b) => n + b.ms, 0),
        backfillSlowestShardMs: Math.max(...backfills.map((b) => b.ms)),
        membersCounted: counts[i].members,
        countSqlMs: counts[i].sqlMs,
        bytesPerShard: await Promise.all(p.shards.map((s) => shardBytes(s.db))),
      })
    }
    return { contacts, rows }
  } finally {
    for (const p of placements) await p.dispose()
  }
}
