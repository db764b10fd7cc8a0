/**
 * Local D1 and KV for benchmarks that run Segue's code in Node: Miniflare, the simulator behind
 * `wrangler dev`, with the project's migrations applied.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { unstable_splitSqlQuery } from 'wrangler'

export async function localStores(persistTo?: string): Promise<{ mf: Miniflare; db: D1Database; kv: KVNamespace }> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }) } }',
    compatibilityDate: '2026-04-20',
    d1Databases: { DB: 'bench-db' },
    kvNamespaces: { KV: 'bench-kv' },
    ...(persistTo ? { d1Persist: persistTo, kvPersist: persistTo } : {}),
  })
  const db = (await mf.getD1Database('DB')) as unknown as D1Database
  const kv = (await mf.getKVNamespace('KV')) as unknown as KVNamespace
  for (const file of readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort()) {
    for (const statement of unstable_splitSqlQuery(readFileSync(join('migrations', file), 'utf8'))) await db.prepare(statement).run()
  }
  return { mf, db, kv }
}
