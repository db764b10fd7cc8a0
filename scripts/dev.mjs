/**
 * `npm run dev`: local secrets, local D1 migrations (every database in wrangler.toml, as `npm run
 * db:migrate` does), `wrangler dev`, and the demo site seeded once the Worker answers. Arguments after
 * `--` go to `wrangler dev` (for example `npm run dev -- --port 8790`).
 */
import { spawn } from 'node:child_process'
import { appendFileSync, copyFileSync, existsSync, readFileSync } from 'node:fs'
import { migrateAll } from './db-migrate.mjs'
import { seedDemo } from './demo.mjs'

if (!existsSync('.dev.vars')) {
  copyFileSync('.dev.vars.example', '.dev.vars')
  console.log('Created .dev.vars from .dev.vars.example')
}
if (!/^SEGUE_ENV=/m.test(readFileSync('.dev.vars', 'utf8'))) {
  // .dev.vars from before the Worker refused example secrets: mark it as local development.
  appendFileSync('.dev.vars', '\nSEGUE_ENV=development\n')
}
const token = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync('.dev.vars', 'utf8'))?.[1]?.trim()
if (!token) throw new Error('.dev.vars has no ADMIN_TOKEN')

const args = process.argv.slice(2)
const portIndex = args.indexOf('--port')
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 8787

try {
  migrateAll(['--local'])
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
}

const wrangler = spawn('npx', ['wrangler', 'dev', ...(portIndex >= 0 ? [] : ['--port', String(port)]), ...args], { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wrangler.kill(signal))
wrangler.on('exit', (code) => process.exit(code ?? 0))

const base = `http://localhost:${port}`
await waitFor(base)
await seedDemo(base, token)
console.log(`
Segue is running at ${base}
  demo store     ${base}/demo
  console        ${base}/admin (sign in with ${token})
  admin API      ${base}/api/v1 (Authorization: Bearer ${token})
`)

async function waitFor(url) {
  for (let i = 0; i < 240; i++) {
    try {
      await fetch(`${url}/api/v1/sites`)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw new Error(`wrangler dev did not answer at ${url} within a minute`)
}
