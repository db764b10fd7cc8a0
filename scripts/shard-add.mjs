/**
 * `npm run shard:add`: adds a data shard, SHARD_<n> (database segue-shard-<n>), n being one more than the
 * highest shard wrangler.toml declares.
 * - Without --remote: the block gets a placeholder database_id, and its migrations are applied locally.
 * - With `npm run shard:add -- --remote`: creates the database on Cloudflare (`wrangler d1 create`), puts
 *   the id it reports in the block, and applies its migrations remotely. Deploy afterwards so the Worker
 *   has the binding.
 * Either way it writes the block into wrangler.toml after the last D1 database and runs `npm run
 * cf-typegen` so that Env has the binding. If a step after writing wrangler.toml fails, the block stays;
 * the message says what to run to finish.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { addShardBlock, createdDatabaseId, d1Databases, nextShardNumber, placeholderId } from './databases.mjs'
import { ROOT, WRANGLER_TOML, migrateDatabase } from './db-migrate.mjs'

const args = process.argv.slice(2)
const unknown = args.filter((a) => a !== '--remote' && a !== '--local')
if (unknown.length > 0) fail(`Unknown argument ${unknown.join(' ')}; the only option is --remote (local is the default)`)
const remote = args.includes('--remote')
const where = remote ? '--remote' : '--local'

const before = readFileSync(WRANGLER_TOML, 'utf8')
const n = nextShardNumber(d1Databases(before))
const binding = `SHARD_${n}`
const name = `segue-shard-${n}`

let id = placeholderId(n)
if (remote) {
  console.log(`> npx wrangler d1 create ${name}`)
  const r = spawnSync('npx', ['wrangler', 'd1', 'create', name], {
    cwd: ROOT,
    stdio: ['inherit', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  })
  process.stdout.write(r.stdout ?? '')
  if (r.status !== 0) fail(`wrangler d1 create ${name} failed; wrangler.toml is unchanged`)
  try {
    id = createdDatabaseId(r.stdout)
  } catch (error) {
    fail(`${message(error)}. The database ${name} may exist now: find its id with \`npx wrangler d1 info ${name}\` and add the block by hand`)
  }
}

writeFileSync(WRANGLER_TOML, addShardBlock(before, n, id))
console.log(`\nAdded ${binding} (database ${name}, id ${id}) to wrangler.toml`)

console.log('\n> npm run cf-typegen')
const typegen = spawnSync('npm', ['run', 'cf-typegen'], { cwd: ROOT, stdio: 'inherit' })
if (typegen.status !== 0) fail(`npm run cf-typegen failed; wrangler.toml has ${binding}. Run it again, then \`npm run db:migrate -- ${where}\``)

try {
  migrateDatabase({ binding, database_name: name, database_id: id, line: -1, endLine: -1 }, [where])
} catch (error) {
  fail(`${message(error)}. wrangler.toml and Env have ${binding}; run \`npm run db:migrate -- ${where}\` to finish`)
}

console.log(`
Added data shard ${binding} (${name}, ${remote ? 'on Cloudflare' : 'local'}):
  - wrangler.toml declares it${remote ? '' : ' with a placeholder database_id'}, and Env (worker/worker-configuration.d.ts) has ${binding}
  - its migrations are applied (${where})
${remote ? `Deploy the Worker (npx wrangler deploy) so that it has ${binding}; from then on new sites` : 'New sites now'} consider ${binding}: a new site goes to the emptiest shard.
Existing sites stay where they are until moved: \`npm run site:move\`.`)

function message(/** @type {unknown} */ error) {
  return error instanceof Error ? error.message : String(error)
}

/** @param {string} why @returns {never} */
function fail(why) {
  console.error(`\nshard:add: ${why}`)
  process.exit(1)
}
