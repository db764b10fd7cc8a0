/**
 * `npm run deploy`: Segue on your Cloudflare account in one command, with wrangler (signed in with
 * `npx wrangler login`, or CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID). In order, it
 * 1. finds the D1 databases (the control database and every data shard), the KV namespace and the queues
 *    wrangler.toml names, by name, and creates those the account lacks;
 * 2. writes wrangler.deploy.toml: wrangler.toml with the account's ids and this deployment's [vars]
 *    (Cloudflare Access), so that the committed wrangler.toml stays the local one;
 * 3. applies the migrations to every database, control first (`wrangler d1 migrations apply --remote`);
 * 4. sets the secrets the Worker lacks (ADMIN_TOKEN, STATE_SECRET): from environment variables of those
 *    names, else asked for (Enter makes a random one), never echoed;
 * 5. builds (`npm run build`) and deploys (`wrangler deploy --config wrangler.deploy.toml`).
 * Running it again creates nothing twice, applies only new migrations and keeps the secrets and [vars].
 *
 * `npm run deploy -- --dry-run` needs no account and no network: it prints each step and command it would
 * run, then builds and bundles the Worker (`wrangler deploy --dry-run`) and reports the bundle's size.
 * Access: `--access-team-domain https://<team>.cloudflareaccess.com --access-aud <tag>` (or environment
 * variables ACCESS_TEAM_DOMAIN and ACCESS_AUD), `--no-access` to turn it off. docs/deploy.md has the rest.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { ROOT, WRANGLER_TOML } from './db-migrate.mjs'
import {
  DEPLOY_CONFIG,
  REQUIRED_SECRETS,
  accessVars,
  d1List,
  deployConfig,
  deploymentNeeds,
  exampleSecrets,
  keptVars,
  kvList,
  missingResources,
  queueExists,
  secretNames,
  secretProblem,
} from './deploy-plan.mjs'

const USAGE = `Usage: npm run deploy [-- --dry-run] [-- --access-team-domain <https://team.cloudflareaccess.com> --access-aud <tag> | --no-access]`

let options
try {
  options = parseArgs({
    options: {
      'dry-run': { type: 'boolean' },
      'access-team-domain': { type: 'string' },
      'access-aud': { type: 'string' },
      'no-access': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values
} catch (error) {
  fail(`${message(error)}\n${USAGE}`)
}
if (options.help) {
  console.log(USAGE)
  process.exit(0)
}
const dryRun = options['dry-run'] === true
const configPath = join(ROOT, DEPLOY_CONFIG)
const config = ['--config', DEPLOY_CONFIG]

try {
  const toml = readFileSync(WRANGLER_TOML, 'utf8')
  const needs = deploymentNeeds(toml)
  const vars = accessVars(
    { teamDomain: options['access-team-domain'], aud: options['access-aud'], off: options['no-access'] },
    process.env,
    keptVars(existsSync(configPath) ? readFileSync(configPath, 'utf8') : undefined),
  )
  console.log(`Deploying the Worker "${needs.name}"${dryRun ? ' (dry run: nothing on the account is read or changed)' : ''}`)
  console.log(`  D1 databases   ${needs.databases.map((d) => `${d.database_name} (${d.binding})`).join(', ')}`)
  console.log(`  KV namespace   ${needs.kvNamespaces.map((k) => `${k.title} (${k.binding})`).join(', ')}`)
  console.log(`  queues         ${needs.queues.join(', ')}`)
  console.log(`  Access         ${vars.ACCESS_TEAM_DOMAIN ? `on: ${vars.ACCESS_TEAM_DOMAIN}, AUD ${vars.ACCESS_AUD}` : 'off: the console signs in with the admin token'}`)
  if (dryRun) planOnly(needs)
  else await deploy(toml, needs, vars)
} catch (error) {
  fail(message(error))
}

/**
 * @param {string} toml
 * @param {import('./deploy-plan.mjs').Needs} needs
 * @param {Record<string, string>} vars
 */
async function deploy(toml, needs, vars) {
  step(1, 'Find and create what the Worker needs on the account')
  const account = lookUp(needs)
  const missing = missingResources(needs, account)
  for (const name of missing.databases) mustRun(['wrangler', 'd1', 'create', name])
  for (const title of missing.kvNamespaces) mustRun(['wrangler', 'kv', 'namespace', 'create', title])
  for (const queue of missing.queues) mustRun(['wrangler', 'queues', 'create', queue])
  const created = missing.databases.length + missing.kvNamespaces.length + missing.queues.length
  console.log(created === 0 ? 'Everything exists already.' : `Created ${created}.`)
  // The ids of what was just made; the queues need none.
  if (missing.databases.length > 0) account.databases = d1List(mustCapture(['wrangler', 'd1', 'list', '--json']))
  if (missing.kvNamespaces.length > 0) account.kvNamespaces = kvList(mustCapture(['wrangler', 'kv', 'namespace', 'list']))

  step(2, `Write ${DEPLOY_CONFIG}`)
  writeFileSync(configPath, deployConfig(toml, account, vars))
  console.log(`${DEPLOY_CONFIG}: wrangler.toml with ${needs.databases.length} database ids, ${needs.kvNamespaces.length} KV namespace id and [vars]`)

  step(3, 'Apply the migrations')
  for (const d of needs.databases) {
    mustRun(['wrangler', 'd1', 'migrations', 'apply', d.database_name, '--remote', ...config], { env: { CI: 'true' } })
  }

  step(4, 'Set the secrets the Worker lacks')
  const listed = secretNames(capture(['wrangler', 'secret', 'list', ...config]))
  const lacking = REQUIRED_SECRETS.filter((name) => !listed.has(name))
  if (lacking.length === 0) console.log(`${REQUIRED_SECRETS.join(' and ')} are set.`)
  const examples = exampleSecrets(readFileSync(join(ROOT, '.dev.vars.example'), 'utf8'))
  // Every value first, so that one refused sets none.
  const values = []
  for (const name of lacking) values.push({ name, ...(await secretValue(name, examples)) })
  for (const { name, value } of values) mustRun(['wrangler', 'secret', 'put', name, ...config], { input: value })
  const newAdminToken = values.find((v) => v.name === 'ADMIN_TOKEN' && v.generated)?.value

  step(5, 'Build and deploy')
  mustRun(['npm', 'run', 'build'], { npm: true })
  mustRun(['wrangler', 'deploy', ...config])

  console.log(`\nDeployed. The admin console is at /admin on the Worker's address above${vars.ACCESS_TEAM_DOMAIN ? ', behind Cloudflare Access' : ''}.`)
  if (newAdminToken) {
    console.log(`\nThe admin token (shown this once; keep it in a password manager):\n  ${newAdminToken}`)
  }
  console.log('A custom domain for the script, allowed origins, Cloudflare Access and updating: docs/deploy.md')
}

/** The dry run: every step as it would run, then the build and the bundle, which need no account. */
function planOnly(/** @type {import('./deploy-plan.mjs').Needs} */ needs) {
  step(1, 'Find and create what the Worker needs on the account')
  would(['wrangler', 'd1', 'list', '--json'], 'and for each missing database:')
  for (const d of needs.databases) would(['wrangler', 'd1', 'create', d.database_name])
  would(['wrangler', 'kv', 'namespace', 'list'], 'and for a missing namespace:')
  for (const k of needs.kvNamespaces) would(['wrangler', 'kv', 'namespace', 'create', k.title])
  for (const q of needs.queues) would(['wrangler', 'queues', 'info', q], `and if it does not exist: npx wrangler queues create ${q}`)

  step(2, `Write ${DEPLOY_CONFIG}`)
  const names = (/** @type {string[]} */ list) => list.join(', ')
  console.log(`would write ${DEPLOY_CONFIG}: wrangler.toml with the account's ids of the databases ${names(needs.databases.map((d) => d.database_name))} and the KV namespace ${names(needs.kvNamespaces.map((k) => k.title))}, and the [vars] above`)

  step(3, 'Apply the migrations')
  for (const d of needs.databases) would(['wrangler', 'd1', 'migrations', 'apply', d.database_name, '--remote', ...config])

  step(4, 'Set the secrets the Worker lacks')
  would(['wrangler', 'secret', 'list', ...config], `and for each of ${REQUIRED_SECRETS.join(', ')} it lacks:`)
  for (const name of REQUIRED_SECRETS) would(['wrangler', 'secret', 'put', name, ...config])

  step(5, 'Build and deploy')
  mustRun(['npm', 'run', 'build'], { npm: true })
  const outdir = mkdtempSync(join(tmpdir(), 'segue-deploy-'))
  try {
    // wrangler.toml's placeholder ids bundle the same Worker: ids only matter to the upload.
    mustRun(['wrangler', 'deploy', '--dry-run', '--outdir', outdir])
    const files = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f))
    const bytes = files.reduce((sum, f) => sum + readFileSync(join(outdir, f)).length, 0)
    const gzipped = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(outdir, f))).length, 0)
    console.log(`\nThe Worker bundle builds: ${files.join(', ')}, ${kib(bytes)} (${kib(gzipped)} gzip; Cloudflare takes up to 3 MB gzip on the Free plan, 10 MB on Paid).`)
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
  would(['wrangler', 'deploy', ...config])
  console.log('\nDry run done: nothing on the account was read or changed.')
}

/**
 * The account's databases, KV namespaces and queues, as far as the Worker needs them.
 * @param {import('./deploy-plan.mjs').Needs} needs
 * @returns {import('./deploy-plan.mjs').Account}
 */
function lookUp(needs) {
  const databases = d1List(mustCapture(['wrangler', 'd1', 'list', '--json']))
  const kvNamespaces = kvList(mustCapture(['wrangler', 'kv', 'namespace', 'list']))
  const queues = new Set(needs.queues.filter((q) => queueExists(q, capture(['wrangler', 'queues', 'info', q]))))
  return { databases, kvNamespaces, queues }
}

/**
 * A secret's value: its environment variable if set (for CI), else asked for without echo; Enter makes a
 * random one (32 bytes, base64url). A value the Worker would refuse is refused here.
 * @param {string} name
 * @param {Set<string>} examples
 * @returns {Promise<{ value: string, generated: boolean }>}
 */
async function secretValue(name, examples) {
  const given = process.env[name]
  if (given) {
    const problem = secretProblem(name, given, examples)
    if (problem) throw new Error(`${problem} (the environment variable ${name})`)
    console.log(`${name}: from the environment variable ${name}`)
    return { value: given, generated: false }
  }
  if (!process.stdin.isTTY) {
    throw new Error(`The Worker has no ${name}. Run npm run deploy in a terminal to be asked for it, or give it as the environment variable ${name}.`)
  }
  for (;;) {
    const typed = await askHidden(`${name} is not set. Type or paste one (at least 32 characters), or press Enter for a random one: `)
    if (typed === '') return { value: randomBytes(32).toString('base64url'), generated: true }
    const problem = secretProblem(name, typed, examples)
    if (!problem) return { value: typed, generated: false }
    console.log(`${problem}: try again.`)
  }
}

/** Reads a line from the terminal without showing it. */
function askHidden(/** @type {string} */ question) {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin
    let value = ''
    const done = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stdout.write('\n')
    }
    const onData = (/** @type {string} */ chunk) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done()
          return resolve(value.trim())
        }
        if (ch === '\u0003') {
          done()
          return reject(new Error('Stopped.'))
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch
      }
    }
    // Raw (no echo) before the question shows, so that nothing typed at once is echoed.
    stdin.setEncoding('utf8')
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
    process.stdout.write(question)
  })
}

/**
 * Runs `npx <argv>` (or `<argv>` for npm) in the repository, its output on the terminal. Throws if it fails.
 * @param {string[]} argv
 * @param {{ env?: Record<string, string>, input?: string, npm?: boolean }} [o]
 */
function mustRun(argv, o = {}) {
  const [command, args] = o.npm ? [argv[0], argv.slice(1)] : ['npx', argv]
  console.log(`\n> ${command} ${args.join(' ')}`)
  const r = spawnSync(command, args, {
    cwd: ROOT,
    stdio: [o.input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'],
    input: o.input,
    env: { ...process.env, ...o.env },
  })
  if (r.status !== 0) {
    const why = r.error?.message ?? `exit ${r.status ?? r.signal}`
    throw new Error(`${command} ${args.join(' ')} failed (${why}). Fix what it says and run npm run deploy again: it picks up where it stopped.`)
  }
}

/**
 * Runs `npx <argv>` with no terminal input (wrangler then never waits for an answer) and gives its exit
 * status and everything it printed.
 * @param {string[]} argv
 * @returns {import('./deploy-plan.mjs').Run}
 */
function capture(argv) {
  console.log(`> npx ${argv.join(' ')}`)
  const r = spawnSync('npx', argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` }
}

/** What a command printed on stdout; throws with all it printed if it failed. */
function mustCapture(/** @type {string[]} */ argv) {
  console.log(`> npx ${argv.join(' ')}`)
  const r = spawnSync('npx', argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  if (r.status !== 0) {
    throw new Error(`npx ${argv.join(' ')} failed. Is wrangler signed in (npx wrangler login, or CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)?\n${r.stdout}${r.stderr}`)
  }
  return r.stdout
}

function would(/** @type {string[]} */ argv, /** @type {string} */ then = '') {
  console.log(`would run: npx ${argv.join(' ')}${then ? `  ${then}` : ''}`)
}

function step(/** @type {number} */ n, /** @type {string} */ title) {
  console.log(`\n${n}. ${title}`)
}

function kib(/** @type {number} */ bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`
}

function message(/** @type {unknown} */ error) {
  return error instanceof Error ? error.message : String(error)
}

/** @param {string} why @returns {never} */
function fail(why) {
  console.error(`\ndeploy: ${why}`)
  process.exit(1)
}
