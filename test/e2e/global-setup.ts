/**
 * Starts what the browser tests drive: `wrangler dev` on a free port with its own local D1/KV/Queues
 * (migrations applied, the demo seeded), and a second server on another port that serves the demo page,
 * so the page and the Worker are different origins and CORS is real.
 *
 * Without Chromium the suite says so loudly and does not run; under CI (CI set) it fails instead.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestProject } from 'vitest/node'
import { demo, seedDemo } from '../../scripts/demo.mjs'
import { hostilePage, storePage } from './pages'

export const CHROMIUM = process.env.SEGUE_CHROMIUM ?? '/usr/bin/chromium'
const ADMIN_TOKEN = 'e2e-admin-token'
const STATE_SECRET = 'e2e-state-secret-0123456789abcdef0123456789'

export interface E2EContext {
  browser: boolean
  chromium: string
  worker: string
  page: string
  token: string
  /** The Worker's STATE_SECRET, so a test can read which contact a browser id names. */
  stateSecret: string
  siteKey: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2EContext
  }
}

export default async function setup(project: TestProject) {
  if (!existsSync(CHROMIUM)) {
    const message = `Chromium is not installed at ${CHROMIUM}: the browser tests cannot run (apt-get install -y chromium)`
    if (process.env.CI) throw new Error(message)
    console.warn(`\n${'!'.repeat(100)}\n!!! ${message}\n!!! They are SKIPPED on this machine; CI installs Chromium and runs them.\n${'!'.repeat(100)}\n`)
    project.provide('e2e', { browser: false, chromium: CHROMIUM, worker: '', page: '', token: '', stateSecret: '', siteKey: '' })
    return
  }
  const state = mkdtempSync(join(tmpdir(), 'segue-e2e-'))
  const [workerPort, pagePort] = [await freePort(), await freePort()]
  const worker = `http://127.0.0.1:${workerPort}`
  const pageOrigin = `http://127.0.0.1:${pagePort}`
  const wrangler = join('node_modules', '.bin', 'wrangler')
  const env = { ...process.env, CI: 'true', NO_D1_WARNING: 'true' }

  // Every database of wrangler.toml: the control database and the data shards.
  for (const [, database] of readFileSync('wrangler.toml', 'utf8').matchAll(/^database_name = "(.+)"$/gm)) {
    const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', database, '--local', '--persist-to', state], { env, encoding: 'utf8' })
    if (migrate.status !== 0) throw new Error(`applying migrations to ${database} failed:\n${migrate.stdout}\n${migrate.stderr}`)
  }

  const dev: ChildProcess = spawn(
    wrangler,
    ['dev', '--port', String(workerPort), '--ip', '127.0.0.1', '--persist-to', state, '--var', `ADMIN_TOKEN:${ADMIN_TOKEN}`, '--var', `STATE_SECRET:${STATE_SECRET}`, '--var', 'SEGUE_ENV:test'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  dev.stdout?.on('data', (d) => (output += d))
  dev.stderr?.on('data', (d) => (output += d))
  await waitFor(`${worker}/api/v1/sites`, ADMIN_TOKEN, () => output)

  await seedDemo(worker, ADMIN_TOKEN)
  const patched = await fetch(`${worker}/api/v1/sites/${demo.site.id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ allowedOrigins: [...demo.site.allowedOrigins, pageOrigin] }),
  })
  if (!patched.ok) throw new Error(`allowing the page origin failed: ${patched.status}`)
  // Calls to action lead to the page server, so following one needs no network and no interception
  // (which would hold back the requests a page sends while it unloads).
  for (const content of demo.content) {
    if (!('cta' in content)) continue
    const res = await fetch(`${worker}/api/v1/sites/${demo.site.id}/content/${content.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cta: { ...content.cta, url: `${pageOrigin}/listen/${content.id}` } }),
    })
    if (!res.ok) throw new Error(`pointing the call to action at the page server failed: ${res.status}`)
  }

  const pages: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', pageOrigin)
    let html: string
    if (url.pathname.startsWith('/hostile/')) html = hostilePage(url.pathname.slice('/hostile/'.length), worker, demo.site.key)
    // /store/<site key>/<any path>[?hash-routes][&preload=<renderer file>]: a plain page of a site a test made
    else if (url.pathname.startsWith('/store/')) html = storePage(worker, url.pathname.split('/')[2], { hashRoutes: url.searchParams.has('hash-routes'), preload: url.searchParams.get('preload') ?? undefined })
    else html = await (await fetch(`${worker}/demo${url.search}`)).text()
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(html)
  })
  await new Promise<void>((resolve) => pages.listen(pagePort, '127.0.0.1', resolve))

  project.provide('e2e', { browser: true, chromium: CHROMIUM, worker, page: pageOrigin, token: ADMIN_TOKEN, stateSecret: STATE_SECRET, siteKey: demo.site.key })
  return async () => {
    pages.close()
    dev.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 500))
    rmSync(state, { recursive: true, force: true })
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitFor(url: string, token: string, log: () => string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`wrangler dev did not answer within a minute:\n${log()}`)
}
