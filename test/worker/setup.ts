/** Applies the D1 migrations to the local control database and both data shards before each workerd test file runs. */
import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'

await Promise.all([env.DB, env.SHARD_1, env.SHARD_2].map((db) => applyD1Migrations(db, env.TEST_MIGRATIONS)))
