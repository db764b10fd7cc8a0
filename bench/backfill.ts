/**
 * Backfill: filling a new dynamic segment over every contact of a site, on local D1, with the SQL Segue
 * runs when a segment is created, against plain scans of the same rows.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Condition } from '../worker/conditions/types'
import { DEFAULT_LIMITS, saveSite } from '../worker/data/sites'
import { newIdentitySecret } from '../worker/visits/identity'
import { refreshStatements } from '../worker/segments/membership'
import { localStores } from './miniflare'

export interface BackfillRow {
  contacts: number
  events: number
  loadSeconds: number
  /** Reading every contact row once, and every event row once. */
  scanContactsMs: number
  scanEventsMs: number
  fieldBackfillMs: number
  fieldMembers: number
  activityBackfillMs: number
  activityMembers: number
}

const SITE = 'bench'
const DAY = 86_400_000
const FIELD: Condition = { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }
const ACTIVITY: Condition = { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] }

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now()
  const value = await fn()
  return [value, performance.now() - start]
}

/** A site loaded on local D1 for the measurements that need a big one. */
export interface LoadedSite {
  mf: Awaited<ReturnType<typeof localStores>>['mf']
  db: D1Database
  kv: KVNamespace
  siteId: string
  contacts: number
  now: number
  loadSeconds: number
  dispose: () => Promise<void>
}

/** Loads `contacts` contacts with ten page visits each, in the last 60 days, on a fresh local D1. */
export async function loadSite(contacts: number, log: (line: string) => void = () => undefined): Promise<LoadedSite> {
  const dir = mkdtempSync(join(tmpdir(), 'segue-backfill-'))
  const { mf, db, kv } = await localStores(dir)
  const dispose = async () => {
    await mf.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const now = Date.now()
    await saveSite(db, { id: SITE, key: 'pk_bench', name: 'Bench', allowedOrigins: [], fields: [], browserFields: [], identitySecret: newIdentitySecret(), identitySecretCreatedAt: now, trustUnsignedIdentify: false, limits: DEFAULT_LIMITS, createdAt: now, updatedAt: now }).run()
    const start = performance.now()
    const CHUNK = 2000
    for (let from = 0; from < contacts; from += CHUNK) {
      const ids = Array.from({ length: Math.min(CHUNK, contacts - from) }, (_, k) => from + k)
      const people = ids.map((i) => ({ id: `c${i}`, b: `${1950 + (i % 60)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`, k: ['ES', 'FR', 'GB', 'DE'][i % 4] }))
      const visits = ids.flatMap((i) => Array.from({ length: 10 }, (_, j) => ({ id: `c${i}-${j}`, c: `c${i}`, u: `https://shop.example/${j % 3 === 0 ? 'rock' : 'jazz'}/${j}`, t: now - ((i + j * 7) % 60) * DAY })))
      await db.batch([
        db.prepare(`INSERT INTO contacts (site_id, id, birth_date, country, custom, created_at) SELECT ?1, r.value ->> '$.id', r.value ->> '$.b', r.value ->> '$.k', '{}', ?2 FROM json_each(?3) r`).bind(SITE, now, JSON.stringify(people)),
        db.prepare(`INSERT INTO events (site_id, id, contact_id, type, at, url) SELECT ?1, r.value ->> '$.id', r.value ->> '$.c', 'page_visit', r.value ->> '$.t', r.value ->> '$.u' FROM json_each(?2) r`).bind(SITE, JSON.stringify(visits.slice(0, visits.length / 2))),
        db.prepare(`INSERT INTO events (site_id, id, contact_id, type, at, url) SELECT ?1, r.value ->> '$.id', r.value ->> '$.c', 'page_visit', r.value ->> '$.t', r.value ->> '$.u' FROM json_each(?2) r`).bind(SITE, JSON.stringify(visits.slice(visits.length / 2))),
      ])
      if ((from / CHUNK) % 50 === 49) log(`  loaded ${from + CHUNK} contacts`)
    }
    return { mf, db, kv, siteId: SITE, contacts, now, loadSeconds: (performance.now() - start) / 1000, dispose }
  } catch (err) {
    await dispose()
    throw err
  }
}

/** Times scans and backfills on a loaded site. */
export async function backfillOn(site: LoadedSite): Promise<BackfillRow> {
  const { db, now } = site
  const [, scanContactsMs] = await timed(() => db.prepare(`SELECT count(*) AS n FROM contacts WHERE site_id = ?1 AND birth_date >= '1900-01-01'`).bind(SITE).first())
  const [, scanEventsMs] = await timed(() => db.prepare(`SELECT count(*) AS n FROM events WHERE site_id = ?1 AND url LIKE '%/rock%'`).bind(SITE).first())
  const backfill = async (id: string, conditions: Condition) => {
    const [results, ms] = await timed(() => db.batch(refreshStatements(db, { id: SITE, fields: [] }, [{ id, type: 'dynamic', conditions }], now)))
    return { ms, members: results[1].meta.changes }
  }
  const field = await backfill('seg_field', FIELD)
  const activity = await backfill('seg_activity', ACTIVITY)
  return {
    contacts: site.contacts,
    events: site.contacts * 10,
    loadSeconds: site.loadSeconds,
    scanContactsMs,
    scanEventsMs,
    fieldBackfillMs: field.ms,
    fieldMembers: field.members,
    activityBackfillMs: activity.ms,
    activityMembers: activity.members,
  }
}

/** Loads `contacts` contacts with ten page visits each, then times scans and backfills. */
export async function measureBackfill(contacts: number, log: (line: string) => void = () => undefined): Promise<BackfillRow> {
  const site = await loadSite(contacts, log)
  try {
    return await backfillOn(site)
  } finally {
    await site.dispose()
  }
}
