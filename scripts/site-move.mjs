/**
 * `npm run site:move -- <site> <SHARD_n>[,SHARD_m] [--url http://localhost:8787] [--token ...]`: moves a
 * site's contact data to other data shards through the admin API (POST /api/v1/sites/:site/move), then
 * follows the move (GET /api/v1/sites/:site every few seconds) until the site has arrived.
 *
 * - The site keeps answering visitors throughout; its visits are written once it has arrived, none lost.
 *   Changes to its contacts and segments through the admin API are refused (409 site_moving) meanwhile.
 * - The token is --token, else SEGUE_ADMIN_TOKEN, else ADMIN_TOKEN from .dev.vars (for `npm run dev`).
 * - --url defaults to http://localhost:8787 (`npm run dev`); give your Worker's address for a deployment.
 * - --cancel calls a running move off instead (DELETE /api/v1/sites/:site/move): the site stays where it
 *   was and the new shards let go of what was copied.
 * - Stopping this script (Ctrl-C) does not stop the move: it runs in the Worker's queue.
 *
 * A move copies 200 contacts a queue message, after a minute's wait for writers already under way;
 * a small site arrives in a minute or two.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const USAGE = 'Usage: npm run site:move -- <site> <SHARD_n>[,SHARD_m] [--url http://localhost:8787] [--token TOKEN]\n       npm run site:move -- <site> --cancel [--url ...] [--token ...]'
const POLL_MS = 3000

function fail(message) {
  console.error(message)
  process.exit(1)
}

/** The arguments: positional ones, and --name value (or --name=value) options. */
function parseArgs(argv) {
  const positional = []
  const options = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--cancel') options.cancel = true
    else if (arg === '--help' || arg === '-h') options.help = true
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s)
      if (name !== 'url' && name !== 'token') fail(`Unknown option --${name}\n${USAGE}`)
      const value = inline ?? argv[++i]
      if (value === undefined) fail(`--${name} needs a value\n${USAGE}`)
      options[name] = value
    } else positional.push(arg)
  }
  return { positional, options }
}

/** ADMIN_TOKEN from .dev.vars, as `npm run dev` reads it. */
function devToken() {
  const file = join(ROOT, '.dev.vars')
  if (!existsSync(file)) return undefined
  const line = readFileSync(file, 'utf8').split(/\r?\n/).find((l) => /^\s*ADMIN_TOKEN\s*=/.test(l))
  return line?.replace(/^\s*ADMIN_TOKEN\s*=\s*/, '').replace(/^(["'])(.*)\1$/, '$2').trim()
}

const { positional, options } = parseArgs(process.argv.slice(2))
if (options.help) {
  console.log(USAGE)
  process.exit(0)
}
const [site, shardList] = positional
if (positional.length !== (options.cancel ? 1 : 2)) fail(USAGE)
const base = (options.url ?? 'http://localhost:8787').replace(/\/+$/, '')
const token = options.token ?? process.env.SEGUE_ADMIN_TOKEN ?? devToken()
if (!token) fail('No admin token: pass --token, set SEGUE_ADMIN_TOKEN, or keep ADMIN_TOKEN in .dev.vars')
const sitePath = `${base}/api/v1/sites/${encodeURIComponent(site)}`

async function call(method, url, body) {
  let res
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (error) {
    fail(`Could not reach ${base}: ${error instanceof Error ? error.message : error}. Is the Worker running (npm run dev), or is --url right?`)
  }
  const text = await res.text()
  let json
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = null
  }
  if (!res.ok) fail(`${method} ${url} answered ${res.status}: ${json?.error ? `${json.error.code}: ${json.error.message}` : text.slice(0, 500)}`)
  return json
}

const placement = (s) => (s.shards ?? []).join(', ')

if (options.cancel) {
  const after = await call('DELETE', `${sitePath}/move`)
  console.log(`Move of ${site} called off: it stays on ${placement(after)}; the shards it was moving to let go of what was copied.`)
  process.exit(0)
}

const shards = shardList.split(',').map((s) => s.trim()).filter(Boolean)
const before = await call('GET', sitePath)
console.log(`Site ${site} is on ${placement(before)}; moving it to ${shards.join(', ')}…`)
const started = await call('POST', `${sitePath}/move`, { shards })
console.log(`Started: moving to ${(started.movingTo ?? shards).join(', ')}. Visits wait in the queue until it has arrived.`)

const began = Date.now()
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  const now = await call('GET', sitePath)
  const seconds = Math.round((Date.now() - began) / 1000)
  if (!now.movingTo) {
    console.log(`Done after ${seconds} s: ${site} is on ${placement(now)}. Its old shards let go of its data in the background.`)
    break
  }
  console.log(`  ${seconds} s: still moving from ${placement(now)} to ${now.movingTo.join(', ')}…`)
}
