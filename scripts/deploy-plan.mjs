/**
 * The decisions of `npm run deploy`, as plain functions over text: what wrangler.toml needs on the account,
 * what wrangler says the account has (its output), what is missing, which secrets to ask for, the Access
 * settings, and the config deployed with (wrangler.deploy.toml). scripts/deploy.mjs runs wrangler around
 * them.
 *
 * Resources are found by name, never by the ids in wrangler.toml (which are local placeholders): the D1
 * databases by their database_name, the KV namespace by a title made from the Worker's name, the queues by
 * name. One that exists is used as it is, so running the deploy again creates nothing twice.
 */
import { d1Databases, inMigrationOrder } from './databases.mjs'
import { tomlTables, topLevelString, withValues } from './wrangler-toml.mjs'

/** The generated config, beside wrangler.toml so that the paths in it (main, migrations, assets) stay right. */
export const DEPLOY_CONFIG = 'wrangler.deploy.toml'

/** The secrets the Worker refuses to run without (worker/http/secrets.ts). */
export const REQUIRED_SECRETS = ['ADMIN_TOKEN', 'STATE_SECRET']

/** worker/http/secrets.ts's MIN_SECRET_CHARS: shorter is guessable, and the Worker refuses it. */
export const MIN_SECRET_CHARS = 32

/** The Access vars of wrangler.toml's [vars] (worker/http/access.ts). */
export const ACCESS_VARS = ['ACCESS_TEAM_DOMAIN', 'ACCESS_AUD']

/**
 * @typedef {{ name: string, databases: import('./databases.mjs').D1Database[],
 *   kvNamespaces: Array<{ binding: string, title: string }>, queues: string[] }} Needs
 */

/**
 * What the Worker needs on the account, read from wrangler.toml: its name, the D1 databases (control
 * first, then the shards), the KV namespaces with the titles they go by, and every queue named as a
 * producer, a consumer or a dead-letter queue.
 * @param {string} tomlText
 * @returns {Needs}
 */
export function deploymentNeeds(tomlText) {
  const name = topLevelString(tomlText, 'name')
  if (!name) throw new Error('wrangler.toml has no name = "..." for the Worker')
  const kvNamespaces = tomlTables(tomlText, '[[kv_namespaces]]').map(({ values, line }) => {
    if (!values.binding) throw new Error(`wrangler.toml line ${line + 1}: a [[kv_namespaces]] block needs binding`)
    return { binding: values.binding, title: kvTitle(name, values.binding) }
  })
  const queueTables = [...tomlTables(tomlText, '[[queues.producers]]'), ...tomlTables(tomlText, '[[queues.consumers]]')]
  const queues = [...new Set(queueTables.flatMap(({ values }) => [values.queue, values.dead_letter_queue].filter((q) => q !== undefined)))]
  return { name, databases: inMigrationOrder(d1Databases(tomlText)), kvNamespaces, queues }
}

/**
 * The title a KV namespace goes by: the Worker's name for the binding KV (what `wrangler kv namespace
 * create segue` makes), the Worker's name and the binding for any other.
 * @param {string} worker
 * @param {string} binding
 */
export function kvTitle(worker, binding) {
  return binding === 'KV' ? worker : `${worker}-${binding.toLowerCase().replace(/_/g, '-')}`
}

/**
 * The JSON array a wrangler command printed, whatever it printed before it (a banner, a warning).
 * @param {string} output
 * @param {string} command for the error
 * @returns {unknown[]}
 */
function jsonArray(output, command) {
  const start = output.search(/^\[/m)
  const end = output.lastIndexOf(']')
  try {
    const parsed = start >= 0 && end > start ? JSON.parse(output.slice(start, end + 1)) : undefined
    if (Array.isArray(parsed)) return parsed
  } catch {
    // Reported below, with the output.
  }
  throw new Error(`cannot read the output of ${command}:\n${output}`)
}

/**
 * The account's D1 databases, name → id, from `wrangler d1 list --json`.
 * @param {string} output
 * @returns {Map<string, string>}
 */
export function d1List(output) {
  const rows = /** @type {Array<{ name?: unknown, uuid?: unknown }>} */ (jsonArray(output, 'wrangler d1 list --json'))
  return new Map(rows.flatMap((r) => (typeof r.name === 'string' && typeof r.uuid === 'string' ? [[r.name, r.uuid]] : [])))
}

/**
 * The account's KV namespaces, title → id, from `wrangler kv namespace list`.
 * @param {string} output
 * @returns {Map<string, string>}
 */
export function kvList(output) {
  const rows = /** @type {Array<{ title?: unknown, id?: unknown }>} */ (jsonArray(output, 'wrangler kv namespace list'))
  return new Map(rows.flatMap((r) => (typeof r.title === 'string' && typeof r.id === 'string' ? [[r.title, r.id]] : [])))
}

/**
 * @typedef {{ status: number | null, output: string }} Run
 * A wrangler command's exit status and everything it printed (stdout and stderr).
 */

/**
 * Whether `wrangler queues info <name>` found the queue. It exits with an error both when the queue does
 * not exist and when it cannot ask (not signed in, offline): the latter is thrown.
 * @param {string} queue
 * @param {Run} run
 */
export function queueExists(queue, run) {
  if (run.status === 0 && /^Queue ID:/m.test(run.output)) return true
  if (run.status !== 0 && /does not exist/.test(run.output)) return false
  throw new Error(`cannot tell whether the queue ${queue} exists; wrangler queues info said:\n${run.output}`)
}

/**
 * The names of the Worker's secrets, from `wrangler secret list`; none for a Worker not deployed yet.
 * @param {Run} run
 * @returns {Set<string>}
 */
export function secretNames(run) {
  if (run.status !== 0) {
    if (/Worker "[^"]*"[^\n]* not found/.test(run.output)) return new Set()
    throw new Error(`wrangler secret list failed:\n${run.output}`)
  }
  const rows = /** @type {Array<{ name?: unknown }>} */ (jsonArray(run.output, 'wrangler secret list'))
  return new Set(rows.flatMap((r) => (typeof r.name === 'string' ? [r.name] : [])))
}

/**
 * @typedef {{ databases: Map<string, string>, kvNamespaces: Map<string, string>, queues: Set<string> }} Account
 * What the account has: database name → id, namespace title → id, the queues that exist.
 */

/**
 * What to create: the databases, namespaces (by title) and queues the Worker needs that the account lacks.
 * @param {Needs} needs
 * @param {Account} account
 */
export function missingResources(needs, account) {
  return {
    databases: needs.databases.map((d) => d.database_name).filter((name) => !account.databases.has(name)),
    kvNamespaces: needs.kvNamespaces.map((k) => k.title).filter((title) => !account.kvNamespaces.has(title)),
    queues: needs.queues.filter((q) => !account.queues.has(q)),
  }
}

/**
 * The config to deploy with: wrangler.toml as it is, comments and all, with the account's id in each D1
 * and KV block and the deployment's values in [vars]. Throws if the account lacks one of them.
 * @param {string} tomlText wrangler.toml
 * @param {Pick<Account, 'databases' | 'kvNamespaces'>} account
 * @param {Record<string, string>} vars values for keys of [vars] (added to [vars] if missing there)
 */
export function deployConfig(tomlText, account, vars) {
  const needs = deploymentNeeds(tomlText)
  const idOf = (/** @type {Map<string, string>} */ ids, /** @type {string} */ what, /** @type {string} */ name) => {
    const id = ids.get(name)
    if (!id) throw new Error(`the account has no ${what} named ${name}`)
    return id
  }
  const databaseEdits = tomlTables(tomlText, '[[d1_databases]]').map((table) => ({
    table,
    key: 'database_id',
    value: idOf(account.databases, 'D1 database', table.values.database_name),
  }))
  const kvEdits = tomlTables(tomlText, '[[kv_namespaces]]').map((table) => ({
    table,
    key: 'id',
    value: idOf(account.kvNamespaces, 'KV namespace', kvTitle(needs.name, table.values.binding)),
  }))
  let text = tomlText
  if (Object.keys(vars).length > 0 && tomlTables(text, '[vars]').length === 0) {
    text = `${text.replace(/\s*$/, '')}\n\n[vars]\n`
  }
  const varsTable = tomlTables(text, '[vars]')[0]
  const varEdits = Object.entries(vars).map(([key, value]) => ({ table: varsTable, key, value }))
  // Edits to wrangler.toml's own tables first: the [vars] appended above comes after all of them.
  const edited = withValues(text, [...databaseEdits, ...kvEdits, ...varEdits])
  return `${GENERATED_NOTE}${edited.replace(/\s*$/, '\n')}`
}

const GENERATED_NOTE = `# Generated by \`npm run deploy\` from wrangler.toml, with the ids of your account's D1 databases and KV
# namespace and this deployment's [vars]. Edit wrangler.toml, not this file: the next \`npm run deploy\`
# writes it again (keeping the [vars] it finds here unless told otherwise). Not committed (.gitignore).

`

/**
 * The [vars] of a config `npm run deploy` wrote before, or none.
 * @param {string | undefined} tomlText
 * @returns {Record<string, string>}
 */
export function keptVars(tomlText) {
  return tomlText === undefined ? {} : { ...tomlTables(tomlText, '[vars]')[0]?.values }
}

/**
 * @typedef {{ teamDomain?: string, aud?: string, off?: boolean }} AccessFlags
 * --access-team-domain, --access-aud and --no-access.
 */

/**
 * The Access vars to deploy with. Each comes from its flag, else the environment variable of its name,
 * else the config the last deploy wrote, else empty (off); --no-access empties both. Both or neither must
 * be set. A team domain may be given as `acme.cloudflareaccess.com` or with https://; it is written as the
 * origin, which is what Access puts in an assertion's `iss`.
 * @param {AccessFlags} flags
 * @param {Record<string, string | undefined>} environment
 * @param {Record<string, string>} kept
 * @returns {{ ACCESS_TEAM_DOMAIN: string, ACCESS_AUD: string }}
 */
export function accessVars(flags, environment, kept) {
  if (flags.off) return { ACCESS_TEAM_DOMAIN: '', ACCESS_AUD: '' }
  const pick = (/** @type {string | undefined} */ flag, /** @type {string} */ name) => (flag ?? environment[name] ?? kept[name] ?? '').trim()
  const domain = pick(flags.teamDomain, 'ACCESS_TEAM_DOMAIN')
  const aud = pick(flags.aud, 'ACCESS_AUD')
  if (!domain !== !aud) {
    throw new Error(`Cloudflare Access needs both its team domain and its audience tag: ${domain ? 'ACCESS_AUD (--access-aud)' : 'ACCESS_TEAM_DOMAIN (--access-team-domain)'} is missing. --no-access turns Access off.`)
  }
  return { ACCESS_TEAM_DOMAIN: domain && teamDomain(domain), ACCESS_AUD: aud }
}

/** `acme.cloudflareaccess.com` or `https://acme.cloudflareaccess.com/` → `https://acme.cloudflareaccess.com`. */
function teamDomain(/** @type {string} */ value) {
  let url
  try {
    url = new URL(/^[a-z]+:\/\//i.test(value) ? value : `https://${value}`)
  } catch {
    url = undefined
  }
  if (!url || url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new Error(`the Access team domain is an https origin such as https://<team>.cloudflareaccess.com, not "${value}"`)
  }
  return url.origin
}

/**
 * What is wrong with a secret someone typed, as the Worker would see it, or undefined.
 * @param {string} name
 * @param {string} value
 * @param {Set<string>} examples the values .dev.vars.example ships with
 */
export function secretProblem(name, value, examples) {
  if (examples.has(value)) return `${name} is the example value from .dev.vars.example`
  if (value.length < MIN_SECRET_CHARS) return `${name} is shorter than ${MIN_SECRET_CHARS} characters`
  return undefined
}

/**
 * The secrets' values in a .dev.vars file (its ADMIN_TOKEN= and STATE_SECRET= lines).
 * @param {string} text
 * @returns {Set<string>}
 */
export function exampleSecrets(text) {
  const values = text.split(/\r?\n/).map((line) => /^\s*([A-Z_]+)=(.*)$/.exec(line)).flatMap((m) => (m && REQUIRED_SECRETS.includes(m[1]) ? [m[2].trim()] : []))
  return new Set(values)
}
