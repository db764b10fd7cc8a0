/**
 * Decision throughput at the edge runtime: `wrangler dev` (workerd) loaded with autocannon from this
 * process. POST /v1/events page visits of returning contacts against a site with 100 dynamic segments
 * and 20 active workflows, alternating with GET /health, a bare endpoint that touches no binding. The
 * returning contacts' state tokens are minted just before each round, so that they are as fresh as a
 * session's (see TOKEN_FRESH_MS in worker/visits/token.ts) for the whole round.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { CONTENT, pageUrl, segments, workflows } from './site.mjs'

const TOKEN = 'bench-admin-token'

async function freePort() {
  const server = createServer()
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  await new Promise((r) => server.close(r))
  return port
}

async function call(base, method, path, body) {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) })
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`)
  return res.json()
}

function load(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)))
  })
}

const summary = (r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, total: r.requests.total })

/**
 * A copy of wrangler.toml with absolute paths and, as one load generator is one client sending far more
 * than any visitor, without rate limits. Without the queue consumer (`consumer` false), `wrangler dev`
 * runs the Worker alone, and the visits' messages wait in the queue instead of being written meanwhile.
 */
function benchConfig(dir, consumer) {
  const root = process.cwd()
  const source = readFileSync('wrangler.toml', 'utf8')
  const toml = (consumer ? source : source.replace(/\[\[queues\.consumers\]\][\s\S]*?(?=\n\n|\n#|$)/, ''))
    .replace(/^main = "(.*)"/m, (_, p) => `main = "${join(root, p)}"`)
    .replace(/^migrations_dir = "(.*)"/gm, (_, p) => `migrations_dir = "${join(root, p)}"`)
    .replace(/^directory = "(.*)"/m, (_, p) => `directory = "${join(root, p)}"`)
    .replace(/simple = \{ limit = \d+/g, 'simple = { limit = 1000000000')
  const file = join(dir, 'wrangler.toml')
  writeFileSync(file, toml)
  return file
}

export async function measureEdgeLoad({ quick, consumer = true, log = () => {} }) {
  const state = mkdtempSync(join(tmpdir(), 'segue-load-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env = { ...process.env, CI: 'true' }
  const wrangler = join('node_modules', '.bin', 'wrangler')
  // Every database of wrangler.toml: the control database and the data shards.
  for (const [, database] of readFileSync(join(process.cwd(), 'wrangler.toml'), 'utf8').matchAll(/^database_name = "(.+)"$/gm)) {
    const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', database, '--local', '--persist-to', state], { env, encoding: 'utf8' })
    if (migrate.status !== 0) throw new Error(migrate.stderr)
  }
  const config = ['--config', benchConfig(state, consumer)]
  const dev = spawn(wrangler, ['dev', ...config, '--port', String(port), '--ip', '127.0.0.1', '--persist-to', state, '--var', `ADMIN_TOKEN:${TOKEN}`, '--var', 'STATE_SECRET:bench-state-secret-0123456789abcdef', '--var', 'SEGUE_ENV:test'], { env, stdio: 'ignore' })
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/health`)).ok) break
      } catch {
        if (i > 240) throw new Error('wrangler dev did not start')
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    const site = await call(`${base}/api/v1`, 'POST', '/sites', { id: 'bench', name: 'Bench', allowedOrigins: [] })
    for (const s of segments(100)) await call(`${base}/api/v1`, 'POST', '/sites/bench/segments', s)
    for (const c of CONTENT) await call(`${base}/api/v1`, 'POST', '/sites/bench/content', c)
    for (const w of workflows(20, 100)) await call(`${base}/api/v1`, 'POST', '/sites/bench/workflows', w)
    /**
     * Returning contacts, each made by a first visit whose browser id and state token the load then sends
     * back, as the SDK does. A token is decided on without a KV read for 30 s after its state was last
     * checked against KV, as the requests of a browsing session seconds apart are; tokens replayed longer
     * than that would measure a visitor back after a pause instead. So each round of the load (10 s) gets
     * contacts minted just before it.
     */
    let minted = 0
    const mint = async () => {
      const made = []
      for (let i = 0; i < (quick ? 50 : 200); i++) {
        const res = await fetch(`${base}/v1/events`, { method: 'POST', body: JSON.stringify({ site: site.key, events: [{ id: `mint-${++minted}`, type: 'page_visit', url: pageUrl(i) }] }) })
        const answer = await res.json()
        made.push({ contact: answer.contact, state: answer.state })
      }
      return made
    }
    let contacts = await mint()
    log(`  site ready: 100 segments, 20 workflows, ${contacts.length} contacts; letting the queue write their snapshots`)
    for (let i = 0; consumer && i < 60; i++) {
      const page = await call(`${base}/api/v1`, 'GET', '/sites/bench/contacts?limit=200')
      if (page.items.length >= Math.min(contacts.length, 200)) break
      await new Promise((r) => setTimeout(r, 500))
    }
    await new Promise((r) => setTimeout(r, 3000))

    let n = 0
    const events = {
      url: `${base}/v1/events`,
      connections: 8,
      duration: quick ? 4 : 10,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
          setupRequest: (req) => {
            n++
            // As the SDK does: the contact id and the state token of its last answer.
            return { ...req, body: JSON.stringify({ site: site.key, ...contacts[n % contacts.length], events: [{ id: `load-${n}`, type: 'page_visit', url: pageUrl(n), title: 'Bench' }] }) }
          },
        },
      ],
    }
    const bare = { url: `${base}/health`, connections: 8, duration: quick ? 4 : 10 }
    const rounds = quick ? 1 : 2
    const results = { events: [], bare: [] }
    for (let round = 0; round < rounds; round++) {
      results.bare.push(summary(await load(bare)))
      contacts = await mint()
      results.events.push(summary(await load(events)))
      log(`  round ${round + 1}: events ${results.events.at(-1).rps.toFixed(0)} req/s, bare ${results.bare.at(-1).rps.toFixed(0)} req/s`)
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const pick = (rs) => ({ rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((s, r) => s + r.errors, 0), rounds: rs })
    const ev = pick(results.events)
    const br = pick(results.bare)
    return { consumer, events: ev, bare: br, ratio: ev.rps / br.rps, connections: 8, seconds: events.duration, contacts: contacts.length }
  } finally {
    dev.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 500))
    rmSync(state, { recursive: true, force: true })
  }
}
