/**
 * `npm run db:migrate`: applies the migrations to every D1 database wrangler.toml declares, the control
 * database first, then the data shards by number. Local by default; `npm run db:migrate -- --remote` for
 * the databases on Cloudflare. Other arguments after `--` go to each `wrangler d1 migrations apply`
 * (for example `--persist-to <dir>`). Stops at the first database whose migrations fail, naming it; the
 * ones before it stay migrated, the ones after it are not tried.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { d1Databases, inMigrationOrder } from './databases.mjs'

/** The repository's root: wrangler runs there and reads its wrangler.toml. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const WRANGLER_TOML = fileURLToPath(new URL('../wrangler.toml', import.meta.url))

/**
 * The arguments for wrangler: --local unless --local or --remote is among them. --config and --env are
 * refused: the databases are read from the top level of the repository's wrangler.toml.
 * @param {string[]} args
 */
export function wranglerArgs(args) {
  const refused = args.find((a) => /^(--config|-c|--env|-e)(=|$)/.test(a))
  if (refused) throw new Error(`${refused} is not supported: the databases come from the top level of wrangler.toml`)
  return args.includes('--local') || args.includes('--remote') ? args : ['--local', ...args]
}

/**
 * Applies the migrations to one database with `npx wrangler d1 migrations apply <database_name>`, with
 * CI=true so that wrangler does not ask for confirmation. Throws, naming the database, if it fails.
 * @param {import('./databases.mjs').D1Database} database
 * @param {string[]} [args] passed to wrangler (see wranglerArgs)
 */
export function migrateDatabase(database, args = []) {
  const argv = ['wrangler', 'd1', 'migrations', 'apply', database.database_name, ...wranglerArgs(args)]
  console.log(`\n> ${database.binding} (${database.database_name}): npx ${argv.join(' ')}`)
  const r = spawnSync('npx', argv, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, CI: 'true' } })
  if (r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `was stopped by ${r.signal}` : `exited with ${r.status}`
    throw new Error(`Migrations failed on ${database.database_name} (binding ${database.binding}): wrangler ${why}`)
  }
}

/**
 * Applies the migrations to every D1 database in wrangler.toml, control first. Throws at the first failure.
 * @param {string[]} [args] passed to wrangler (see wranglerArgs)
 * @returns {import('./databases.mjs').D1Database[]} the databases migrated, in order
 */
export function migrateAll(args = []) {
  wranglerArgs(args)
  const databases = inMigrationOrder(d1Databases(readFileSync(WRANGLER_TOML, 'utf8')))
  if (databases.length === 0) throw new Error('wrangler.toml declares no D1 database')
  for (const database of databases) migrateDatabase(database, args)
  return databases
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  try {
    const args = process.argv.slice(2)
    const where = wranglerArgs(args).includes('--remote') ? 'remote' : 'local'
    const done = migrateAll(args)
    console.log(`\nAll ${done.length} databases are migrated (${where}): ${done.map((d) => d.database_name).join(', ')}`)
  } catch (error) {
    console.error(`\n${error instanceof Error ? error.message : error}`)
    process.exit(1)
  }
}
