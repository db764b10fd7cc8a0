/**
 * Local D1 and KV for benchmarks that run Segue's code in Node: Miniflare, the simulator behind
 * `wrangler dev`, with the project's migrations applied. The control database is `DB`; `shards` data
 * shards (`SHARD_1` … `SHARD_<n>`, up to 4) are declared here for the benchmarks that spread a site over
 * several, whatever wrangler.toml declares.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { unstable_splitSqlQuery } from 'wrangler'

/** The most data shards a benchmark may ask for. */
export const MAX_BENCH_SHARDS = 4

export async function localStores(
  persistTo?: string,
  shards = 0,
): Promise<{ mf: Miniflare; db: D1Database; kv: KVNamespace; shards: Array<{ name: string; db: D1Database }> }> {
  if (shards > MAX_BENCH_SHARDS) throw new Error(`at most ${MAX_BENCH_SHARDS} bench shards`)
  const shardNames = Array.from({ length: shards }, (_, i) => `SHARD_${i + 1}`)
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }) } }',
    compatibilityDate: '2026-04-20',
    d1Databases: { DB: 'bench-db', ...Object.fromEntries(shardNames.map((name, i) => [name, `bench-shard-${i + 1}`])) },
    kvNamespaces: { KV: 'bench-kv' },
    ...(persistTo ? { d1Persist: persistTo, kvPersist: persistTo } : {}),
  })
  const db = (await mf.getD1Database('DB')) as unknown as D1Database
  const kv = (await mf.getKVNamespace('KV')) as unknown as KVNamespace
  const shardDbs = await Promise.all(shardNames.map(async (name) => ({ name, db: (await mf.getD1Database(name)) as unknown as D1Database })))
  const migrations = readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort()
  // One batch a migration file and database: a call to Miniflare costs more than the statements it runs.
  const files = migrations.map((file) => unstable_splitSqlQuery(readFileSync(join('migrations', file), 'utf8')))
  await Promise.all([db, ...shardDbs.map((s) => s.db)].map(async (target) => {
    for (const statements of files) await target.batch(statements.map((sql) => target.prepare(sql)))
  }))
  return { mf, db, kv, shards: shardDbs }
}
