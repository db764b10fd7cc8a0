/**
 * Moving a site's contact data to another placement: a small site off a crowded shard, or a site placed
 * before shards existed out of the control database (placement ["DB"]) onto a data shard.
 *
 * 1. Start (`POST /api/v1/sites/:site/move`): the site is marked as moving (`moving_to`), placed on each
 *    new shard, and its config published. From then on the consumer holds its visits in the queue (sent
 *    again every 30 seconds) and the admin API refuses changes to its contacts and segments. The first
 *    step waits a minute, so that a writer which read the placement before the mark has finished.
 * 2. Copy: page by page (MOVE_PAGE keys a message), each old shard's rows go to the shard of the new
 *    placement that is to hold them: contacts with everything about them; then aliases, to the shard of
 *    the alias and to that of its contact; erasures; the marks of messages written. Rows are written with
 *    INSERT OR IGNORE: a step delivered again copies again, harmlessly.
 * 3. Switch: the new placement becomes the site's and the mark goes, in one guarded update; the config is
 *    published. The visits held meanwhile are written there: none is lost.
 * 4. Clean: the old shards let go of what they no longer hold, page by page. A row stays on a shard only
 *    where the site's placement, or the one it is moving to, puts it (so a later move is never undone by
 *    an earlier one's cleaning); the control database keeps the site's own row.
 *
 * Calling a move off (`DELETE /api/v1/sites/:site/move`) drops the mark, leaving the old placement as it
 * was, and cleans the new shards the same way. Each step does a bounded number of D1 calls (`moveCost`
 * in budget.ts), far under Cloudflare's 1,000 an invocation, however big the site.
 */
import { type MiddlewareHandler } from 'hono'
import { type AppEnv } from '../app-env'
import { CONTROL, database, shardBytes, shardIndex, shardNames } from '../data/shards'
import { type Site, fenceShard, getSite, siteOnShard } from '../data/sites'
import { CONTACT_TABLES, type ContactRows, insertContactRows, insertRows, readContactRows } from '../data/transfer'
import { refuse } from '../http/errors'
import { type Changes } from './changes'
import { type MoveMessage, type MovePart } from './messages'
import { publishSiteConfig } from './publish'

/** Keys (contacts, aliases, erasures, message marks) a step copies or lets go of. */
export const MOVE_PAGE = 200

/** How long the first step waits after the site is marked as moving, in seconds. */
export const MOVE_SETTLE_S = 60

const PARTS: readonly MovePart[] = ['contacts', 'aliases', 'erased', 'processed']

/** Each part's table and the key its pages follow (the second column of the table's primary key). */
const PAGED: Record<MovePart, { table: string; key: string }> = {
  contacts: { table: 'contacts', key: 'id' },
  aliases: { table: 'contact_aliases', key: 'alias_id' },
  erased: { table: 'erased_contacts', key: 'contact_id' },
  processed: { table: 'processed_messages', key: 'id' },
}

type Row = Record<string, unknown>

/** The shard of a placement that holds an id. */
const homeOf = (placement: readonly string[], id: string) => placement[shardIndex(id, placement.length)]

const samePlacement = (a: readonly string[] | null, b: readonly string[] | null) => JSON.stringify(a) === JSON.stringify(b)

/** The refusal of a change to a site's contacts while it moves. */
export function siteMoving(site: Site) {
  return refuse(
    'conflict',
    'site_moving',
    `Site "${site.id}" is moving to ${(site.movingTo ?? []).join(', ')}: its contacts and segments cannot change until it has arrived (GET /api/v1/sites/${site.id} shows when)`,
  )
}

/** Refuses a request that is not a read while the route's site moves. */
export const notWhileMoving: MiddlewareHandler<AppEnv> = async (c, next) => {
  const site = c.get('site')
  if (site.movingTo && c.req.method !== 'GET' && c.req.method !== 'HEAD') throw siteMoving(site)
  await next()
}

/** Changes a site's placement only if it is still `expected`; answers whether it did. */
async function movePlacement(db: D1Database, siteId: string, expected: { shards: readonly string[]; movingTo: readonly string[] | null }, next: { shards: readonly string[]; movingTo: readonly string[] | null }): Promise<boolean> {
  const json = (p: readonly string[] | null) => (p === null ? null : JSON.stringify(p))
  const result = await db
    .prepare(
      `UPDATE sites SET shards = ?2, moving_to = ?3
       WHERE site_id = ?1 AND json(shards) = json(?4) AND (moving_to IS NULL AND ?5 IS NULL OR json(moving_to) = json(?5))`,
    )
    .bind(siteId, json(next.shards), json(next.movingTo), json(expected.shards), json(expected.movingTo))
    .run()
  return result.meta.changes > 0
}

/**
 * Starts moving a site to `shards` (binding names of data shards, each once). Refused while a move runs,
 * for an unknown shard, and for the placement the site already has. Answers the site, marked as moving.
 */
export async function startMove(env: Env, site: Site, shards: readonly string[], changes: Changes, now = Date.now()): Promise<Site> {
  if (site.movingTo) throw siteMoving(site)
  const known = shardNames(env)
  const unknown = shards.filter((name) => !known.includes(name))
  if (unknown.length > 0) {
    const message = `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a data shard' : 'are not data shards'} of this deployment (it has ${known.join(', ') || 'none'})`
    throw refuse('invalid', 'invalid_request', `shards: ${message}`, { field: 'shards', issues: [{ path: 'shards', message }] })
  }
  // In shard number order, as a new site is placed: the order decides which shard holds which contact.
  const target = [...shards].sort((a, b) => known.indexOf(a) - known.indexOf(b))
  if (samePlacement(target, site.shards)) {
    throw refuse('invalid', 'same_placement', `Site "${site.id}" is on ${site.shards.join(', ')} already`, { field: 'shards' })
  }
  // A shard a site has left (or was moving to, before the move was called off) keeps its rows until they
  // are let go of: a copy onto it before then would meet them, and keep them (a copy never overwrites).
  const unclean = await Promise.all(target.filter((name) => !site.shards.includes(name)).map(async (name) => ((await holdsSite(database(env, name), site.id)) ? name : undefined)))
  const waiting = unclean.filter((name): name is string => name !== undefined)
  if (waiting.length > 0) {
    throw refuse(
      'conflict',
      'shard_not_clean',
      `${waiting.join(', ')} still ${waiting.length === 1 ? 'holds' : 'hold'} data of site "${site.id}" from an earlier move, being let go of in the background; try again in a few minutes (a step the queue gave up on is among the site's dead letters, to replay)`,
      { field: 'shards' },
    )
  }
  await Promise.all(target.map((name) => siteOnShard(database(env, name), site.id, now).run()))
  if (!(await movePlacement(env.DB, site.id, { shards: site.shards, movingTo: null }, { shards: site.shards, movingTo: target }))) {
    const current = await getSite(env.DB, site.id)
    throw current?.movingTo ? siteMoving(current) : refuse('conflict', 'site_changed', `Site "${site.id}" changed placement meanwhile; look again and retry`)
  }
  // Writers that read the old placement before this are stopped on the shards it leaves (migration 0009).
  await fenceOld(env, site.id, site.shards, target)
  changes.siteConfig(site)
  const first: MoveMessage = { kind: 'move', siteId: site.id, step: 'copy', from: site.shards, to: target, shard: 0, part: 'contacts', after: '' }
  await env.EVENTS.send(first, { delaySeconds: MOVE_SETTLE_S })
  return { ...site, movingTo: target }
}

/** Whether a database holds any of a site's contact data. */
async function holdsSite(db: D1Database, siteId: string): Promise<boolean> {
  const tables = ['contacts', 'events', 'contact_aliases', 'erased_contacts']
  const row = await db
    .prepare(`SELECT ${tables.map((t) => `EXISTS (SELECT 1 FROM ${t} WHERE site_id = ?1)`).join(' OR ')} AS held`)
    .bind(siteId)
    .first<{ held: number }>()
  return row?.held === 1
}

/**
 * Calls a running move off: the site stays where it was, takes visits again at once, and the shards it
 * was moving to let go of what was copied so far. Refused when no move runs.
 */
export async function stopMove(env: Env, site: Site, changes: Changes): Promise<Site> {
  if (!site.movingTo) throw refuse('conflict', 'site_not_moving', `Site "${site.id}" is not moving`)
  if (!(await movePlacement(env.DB, site.id, { shards: site.shards, movingTo: site.movingTo }, { shards: site.shards, movingTo: null }))) {
    throw refuse('conflict', 'site_changed', `Site "${site.id}" finished moving or changed meanwhile; look again`)
  }
  await fenceOld(env, site.id, site.shards, null)
  changes.siteConfig(site)
  const clean: MoveMessage = { kind: 'move', siteId: site.id, step: 'clean', from: site.movingTo, to: site.shards, shard: 0, part: 'contacts', after: '' }
  // After a step already under way has written what it copied.
  await env.EVENTS.send(clean, { delaySeconds: MOVE_SETTLE_S })
  return { ...site, movingTo: null }
}

/** One step of a move, from the queue. A copy or switch of a move that no longer runs is dropped. */
export async function moveStep(env: Env, m: MoveMessage): Promise<void> {
  const site = await getSite(env.DB, m.siteId)
  if (!site) return
  if (m.step === 'clean') return clean(env, site, m)
  const running = samePlacement(site.shards, m.from) && samePlacement(site.movingTo, m.to)
  // A switch delivered again after its update finds the site switched: it publishes and cleans again.
  const switched = m.step === 'switch' && samePlacement(site.shards, m.to) && site.movingTo === null
  if (!running && !switched) {
    console.warn(`move: a ${m.step} step of site ${m.siteId} (${m.from.join(',')} → ${m.to.join(',')}) is dropped: that move no longer runs`)
    return
  }
  if (m.step === 'switch') return switchOver(env, site, m, running)
  return copy(env, site, m)
}

/** A page of a part on a shard, in key order after `after`. */
async function page(db: D1Database, siteId: string, part: MovePart, after: string): Promise<{ rows: Row[]; keys: string[] }> {
  const { table, key } = PAGED[part]
  const { results } = await db
    .prepare(`SELECT ${part === 'contacts' ? 'id' : '*'} FROM ${table} WHERE site_id = ?1 AND ${key} > ?2 ORDER BY ${key} LIMIT ?3`)
    .bind(siteId, after, MOVE_PAGE)
    .all<Row>()
  return { rows: results, keys: results.map((r) => String(r[key])) }
}

/** Rows grouped by the shards they go to (a row may go to several); none to `except`. */
function byShard<T>(items: readonly T[], shardsOf: (item: T) => Iterable<string>, except: string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) {
    for (const name of new Set(shardsOf(item))) {
      if (name === except) continue
      const list = out.get(name)
      if (list) list.push(item)
      else out.set(name, [item])
    }
  }
  return out
}

/** Copies one page of one part of one old shard to the new placement. */
async function copy(env: Env, site: Site, m: MoveMessage): Promise<void> {
  const name = m.from[m.shard]
  const db = database(env, name)
  const { rows, keys } = await page(db, site.id, m.part, m.after)
  // Only what this shard holds for the old placement: anything else on it is a leftover nobody reads.
  const here = (id: unknown) => homeOf(m.from, String(id)) === name
  const to = (id: unknown) => homeOf(m.to, String(id))
  const now = Date.now()
  if (m.part === 'contacts') {
    const ids = keys.filter(here)
    const found = ids.length > 0 ? await readContactRows(db, site.id, ids) : undefined
    for (const [shard, list] of byShard(ids, (id) => [to(id)], name)) {
      const target = database(env, shard)
      const rows = rowsOf(found!, new Set(list))
      await target.batch([siteOnShard(target, site.id, now), ...insertContactRows(target, rows)])
      // INSERT OR IGNORE also passes over a contact another one's email or external id keeps out: it would be lost.
      const arrived = await target
        .prepare('SELECT count(*) AS n FROM contacts WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))')
        .bind(site.id, JSON.stringify(list))
        .first<{ n: number }>()
      if ((arrived?.n ?? 0) < rows.contacts.length) {
        throw new Error(`move: ${rows.contacts.length - (arrived?.n ?? 0)} contacts of site ${site.id} could not be copied to ${shard} (an identifier another contact there holds?); the move waits: call it off with DELETE /api/v1/sites/${site.id}/move`)
      }
    }
  } else {
    const kept =
      m.part === 'aliases' ? rows.filter((r) => here(r.alias_id) || here(r.contact_id))
      : m.part === 'erased' ? rows.filter((r) => here(r.contact_id))
      : rows // the marks of messages written: every shard of a site is asked for them
    const targets = (r: Row) => (m.part === 'aliases' ? [to(r.alias_id), to(r.contact_id)] : [to(m.part === 'erased' ? r.contact_id : r.id)])
    for (const [shard, list] of byShard(kept, targets, name)) {
      const target = database(env, shard)
      await target.batch([siteOnShard(target, site.id, now), ...insertRows(target, PAGED[m.part].table, list)])
    }
  }
  await next(env, m, rows.length < MOVE_PAGE ? undefined : keys[keys.length - 1])
}

/** Of rows read for several contacts, those of some. */
function rowsOf(found: ContactRows, ids: ReadonlySet<string>): ContactRows {
  return Object.fromEntries(CONTACT_TABLES.map(([table, column]) => [table, found[table].filter((r) => ids.has(String(r[column])))])) as ContactRows
}

/** Every old shard is copied: the site goes over to its new placement, then the old shards are cleaned. */
async function switchOver(env: Env, site: Site, m: MoveMessage, running: boolean): Promise<void> {
  if (running && !(await movePlacement(env.DB, site.id, { shards: m.from, movingTo: m.to }, { shards: m.to, movingTo: null }))) return
  // The shards it arrives at take writes; those it left stay fenced, for a writer still on the old placement.
  await Promise.all(m.to.filter((name) => name !== CONTROL).map((name) => fenceShard(database(env, name), site.id, null).run()))
  await publishSiteConfig(env, site.id)
  // Edges read a config from KV that may be a minute old: until they all have this one, a contact KV has
  // no snapshot of is looked for where it was, so what is left there stays that long.
  await env.EVENTS.send({ ...m, step: 'clean', shard: 0, part: 'contacts', after: '' }, { delaySeconds: MOVE_SETTLE_S + KV_CACHE_S })
}

/** How long a KV read may return an older value than the last write (Cloudflare: up to 60 s). */
const KV_CACHE_S = 60

/**
 * Fences a site's row on each shard of the placement it is leaving (`movingTo`, where it goes), or lifts
 * the fence (null) when it stays; the control database's row is set with the placement itself.
 */
async function fenceOld(env: Env, siteId: string, shards: readonly string[], movingTo: readonly string[] | null): Promise<void> {
  await Promise.all(shards.filter((name) => name !== CONTROL).map((name) => fenceShard(database(env, name), siteId, movingTo).run()))
}

/**
 * Lets go of one page of one part on a shard: what neither the site's placement nor the one it is moving
 * to puts there. Once the shard holds nothing more of the site and the site is not placed on it, the
 * site's row there goes too (never in the control database).
 */
async function clean(env: Env, site: Site, m: MoveMessage): Promise<void> {
  const name = m.from[m.shard]
  const db = database(env, name)
  const placements = [site.shards, ...(site.movingTo ? [site.movingTo] : [])]
  const kept = (id: unknown) => placements.some((p) => homeOf(p, String(id)) === name)
  const placed = placements.some((p) => p.includes(name))
  // Marks of messages written are read on every shard of a site: a shard it stays on keeps them.
  if (m.part === 'processed' && placed) return next(env, m, undefined)
  const { rows, keys } = await page(db, site.id, m.part, m.after)
  const list = (ids: string[]) => JSON.stringify(ids)
  let statements: D1PreparedStatement[] = []
  if (m.part === 'contacts') {
    const gone = keys.filter((id) => !kept(id))
    // Aliases are left to their own part: an alias row stays where its alias id lives even when its contact moved away.
    if (gone.length > 0) {
      statements = [...CONTACT_TABLES]
        .filter(([table]) => table !== 'contact_aliases')
        .reverse()
        .map(([table, column]) =>
          db
            .prepare(`DELETE FROM ${table}${table === 'segment_members' ? ' INDEXED BY segment_members_contact' : ''} WHERE site_id = ?1 AND ${column} IN (SELECT value FROM json_each(?2))`)
            .bind(site.id, list(gone)),
        )
    }
  } else {
    const gone =
      m.part === 'aliases' ? rows.filter((r) => !kept(r.alias_id) && !kept(r.contact_id)).map((r) => String(r.alias_id))
      : m.part === 'erased' ? keys.filter((id) => !kept(id))
      : keys
    const { table, key } = PAGED[m.part]
    if (gone.length > 0) statements = [db.prepare(`DELETE FROM ${table} WHERE site_id = ?1 AND ${key} IN (SELECT value FROM json_each(?2))`).bind(site.id, list(gone))]
  }
  if (statements.length > 0) await db.batch(statements)
  await next(env, m, rows.length < MOVE_PAGE ? undefined : keys[keys.length - 1])
}

/**
 * Queues the step after this one: the next page of the part, the next part, the next shard, then the
 * switch (after copying) or nothing (after cleaning).
 */
async function next(env: Env, m: MoveMessage, after: string | undefined): Promise<void> {
  const send = async (body: MoveMessage) => void (await env.EVENTS.send(body))
  if (after !== undefined) return send({ ...m, after })
  const part = PARTS[PARTS.indexOf(m.part) + 1]
  if (part) return send({ ...m, part, after: '' })
  if (m.step === 'clean') await dropSiteRow(env, m)
  if (m.shard + 1 < m.from.length) return send({ ...m, shard: m.shard + 1, part: 'contacts', after: '' })
  if (m.step === 'copy') return send({ ...m, step: 'switch', shard: 0, part: 'contacts', after: '' })
  console.log(`move: site ${m.siteId} has left ${m.from.join(', ')}`)
}

/**
 * A shard the site is no longer placed on, once it holds nothing of it, drops the site's row — unless the
 * row is fenced: a shard the site left keeps it as a tombstone that refuses a late writer.
 */
async function dropSiteRow(env: Env, m: MoveMessage): Promise<void> {
  const name = m.from[m.shard]
  if (name === CONTROL) return
  const site = await getSite(env.DB, m.siteId)
  if (!site || site.shards.includes(name) || site.movingTo?.includes(name)) return
  const db = database(env, name)
  // The workflows' live counts it kept go too (at most 31 days of registers): the counts of the contacts
  // that moved start again on the shards they moved to.
  await db.prepare('DELETE FROM node_registers WHERE site_id = ?1').bind(m.siteId).run()
  // Every table that refers to the site: a row left (a writer that read an old placement) keeps it.
  await db
    .prepare(
      `DELETE FROM sites WHERE site_id = ?1 AND moving_to IS NULL
         AND NOT EXISTS (SELECT 1 FROM contacts WHERE site_id = ?1) AND NOT EXISTS (SELECT 1 FROM segments WHERE site_id = ?1)
         AND NOT EXISTS (SELECT 1 FROM workflows WHERE site_id = ?1) AND NOT EXISTS (SELECT 1 FROM content WHERE site_id = ?1)`,
    )
    .bind(m.siteId)
    .run()
}

/** A shard a site is on or moving to: its size, and how many of the site's contacts it holds. */
export interface SiteShard {
  name: string
  bytes: number
  contacts: number
  /** Whether the site is placed on it, and whether it is moving to it. */
  placed: boolean
  moving: boolean
}

/** The shards of a site's placement (and of the one it is moving to), for the console. */
export async function siteShards(env: Env, site: Site): Promise<SiteShard[]> {
  const names = [...new Set([...site.shards, ...(site.movingTo ?? [])])]
  return Promise.all(
    names.map(async (name) => {
      const db = database(env, name)
      const [bytes, row] = await Promise.all([
        shardBytes(db),
        db.prepare('SELECT count(*) AS n FROM contacts WHERE site_id = ?1').bind(site.id).first<{ n: number }>(),
      ])
      return { name, bytes, contacts: row?.n ?? 0, placed: site.shards.includes(name), moving: site.movingTo?.includes(name) ?? false }
    }),
  )
}
