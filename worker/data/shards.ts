/**
 * Where data lives. The control database (binding `DB`) holds sites and their placement, segments, content,
 * workflows and dead letters; data shards (every D1 binding named `SHARD_<n>`) hold contacts, activities,
 * memberships, counters, aliases, identities, erasures and written-message marks. A site is placed on one
 * shard or several; a contact lives on one of its site's shards, picked by a hash of its id, with
 * everything about it, so a visit writes one shard. A site placed before shards existed keeps its data in
 * the control database, which then acts as its one shard (placement `["DB"]`).
 */

/** The control database's binding; also the placement of a site whose data never left it. */
export const CONTROL = 'DB'

const SHARD_BINDING = /^SHARD_(\d+)$/

/** The data shards this Worker has bindings for, by binding name, in shard number order. */
export function shardNames(env: Env): string[] {
  return Object.keys(env)
    .filter((name) => SHARD_BINDING.test(name))
    .sort((a, b) => Number(SHARD_BINDING.exec(a)![1]) - Number(SHARD_BINDING.exec(b)![1]))
}

/** A database by binding name: the control database or a shard. */
export function database(env: Env, name: string): D1Database {
  const db = (env as unknown as Record<string, unknown>)[name]
  if (name !== CONTROL && !SHARD_BINDING.test(name)) throw new Error(`"${name}" is not a D1 binding Segue uses`)
  if (!db || typeof (db as D1Database).prepare !== 'function') {
    throw new Error(`No D1 binding "${name}": a site is placed on it, so wrangler.toml must keep it (docs/scaling.md)`)
  }
  return db as D1Database
}

/**
 * FNV-1a over the id's characters, then murmur3's final mix: cheap, stable across runtimes, and every bit
 * of the id reaches the low bits the modulo reads, so ids made in step (c333, c666, ... from an import)
 * spread as evenly as random ones.
 */
export function hashId(id: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Which of a site's shards holds a contact: a hash of its id over the site's placement. */
export function shardIndex(contactId: string, shards: number): number {
  return shards <= 1 ? 0 : hashId(contactId) % shards
}

/** One shard of a site's: its binding name and database. */
export interface Shard {
  name: string
  db: D1Database
}

/**
 * A site's data shards: the one holding a contact, all of them for work that crosses contacts, and the
 * control database. Built from the site's placement, as the control database (or the site's published
 * config) has it.
 */
export class SiteData {
  readonly shards: readonly Shard[]

  constructor(
    readonly control: D1Database,
    readonly siteId: string,
    shards: readonly Shard[],
  ) {
    if (shards.length === 0) throw new Error(`site ${siteId} is placed on no shard`)
    this.shards = shards
  }

  /** The shard holding this contact. */
  shardOf(contactId: string): Shard {
    return this.shards[shardIndex(contactId, this.shards.length)]
  }

  /** The database holding this contact. */
  of(contactId: string): D1Database {
    return this.shardOf(contactId).db
  }

  /** Every shard's database, in placement order. */
  get all(): D1Database[] {
    return this.shards.map((s) => s.db)
  }

  /** Items grouped by the shard of the contact each names, in placement order; shards with none left out. */
  group<T>(items: Iterable<T>, contactOf: (item: T) => string): Array<[Shard, T[]]> {
    const groups = new Map<Shard, T[]>()
    for (const item of items) {
      const shard = this.shardOf(contactOf(item))
      const list = groups.get(shard)
      if (list) list.push(item)
      else groups.set(shard, [item])
    }
    return this.shards.filter((s) => groups.has(s)).map((s) => [s, groups.get(s)!])
  }

  /** Runs `work` on every shard at once; the answers in placement order. */
  each<T>(work: (db: D1Database, shard: Shard) => Promise<T>): Promise<T[]> {
    return Promise.all(this.shards.map((s) => work(s.db, s)))
  }
}

/** A site's data, from its placement (binding names). */
export function siteData(env: Env, site: { id: string; shards?: readonly string[] }): SiteData {
  const names = site.shards && site.shards.length > 0 ? site.shards : [CONTROL]
  return new SiteData(env.DB, site.id, names.map((name) => ({ name, db: database(env, name) })))
}

/**
 * The shards a new site goes to: the `count` emptiest by stored bytes (as D1 reports a database's size),
 * then by fewest sites placed, then by number. Without data shards, the control database.
 */
export async function emptiestShards(env: Env, placements: readonly (readonly string[])[], count = 1): Promise<string[]> {
  const names = shardNames(env)
  if (names.length === 0) return [CONTROL]
  const sites = new Map(names.map((n) => [n, 0]))
  for (const placed of placements) for (const n of placed) if (sites.has(n)) sites.set(n, sites.get(n)! + 1)
  const sizes = await Promise.all(names.map((n) => shardBytes(database(env, n))))
  const order = names.map((name, i) => ({ name, bytes: sizes[i], sites: sites.get(name)!, i }))
  order.sort((a, b) => a.bytes - b.bytes || a.sites - b.sites || a.i - b.i)
  return order.slice(0, Math.max(1, Math.min(count, names.length))).map((s) => s.name).sort((a, b) => names.indexOf(a) - names.indexOf(b))
}

/** A database's size in bytes, as D1 reports it after any query (one cheap read). */
export async function shardBytes(db: D1Database): Promise<number> {
  const result = await db.prepare('SELECT 1').run()
  return Number((result.meta as { size_after?: number }).size_after ?? 0)
}
