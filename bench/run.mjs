/**
 * `npm run bench` (`-- --quick` for a short run): measures every budget of DESIGN.md in one run and
 * writes bench/results.json and the results section of docs/BENCHMARKS.md.
 * `npm run bench -- --only shards` (names separated by commas: size, edge, decision, backfill, bundle,
 * hotpath, shards) measures only those sections and keeps the others as bench/results.json has them; each
 * section measured apart records when, and the report says so.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { cpus, freemem, platform, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { BUDGET_GZIP, rendererFile, sdkSizes } from '../scripts/size.mjs'
import { measureEdgeLoad } from './edge-load.mjs'
import { markdown, terminal } from './report.mjs'

const quick = process.argv.includes('--quick')
const SECTIONS = ['size', 'edge', 'decision', 'backfill', 'bundle', 'hotpath', 'shards']
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt === -1 ? null : (process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean)
if (only && (only.length === 0 || only.some((name) => !SECTIONS.includes(name)))) {
  console.error(`--only takes section names separated by commas, among: ${SECTIONS.join(', ')}`)
  process.exit(1)
}
if (only && !existsSync('bench/results.json')) {
  console.error('--only keeps the other sections of bench/results.json, and there is none yet: run the whole bench first')
  process.exit(1)
}
const want = (name) => !only || only.includes(name)
const WORK = 'bench/.work'
const log = (line) => console.log(line)
mkdirSync(WORK, { recursive: true })

async function bundleMeasurements() {
  const out = join(WORK, 'measure.mjs')
  await build({ entryPoints: ['bench/measure.ts'], bundle: true, platform: 'node', format: 'esm', outfile: out, external: ['miniflare', 'tinybench', 'wrangler'], logLevel: 'error', jsx: 'automatic', jsxImportSource: 'hono/jsx' })
  return import(`../${out}?t=${Date.now()}`)
}

function workerBundle() {
  const sizeOf = (dir) => {
    const file = readdirSync(dir).find((f) => f.endsWith('.js'))
    const raw = readFileSync(join(dir, file))
    return { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length }
  }
  const env = { ...process.env, CI: 'true' }
  const plain = join(WORK, 'bundle')
  const min = join(WORK, 'bundle-min')
  spawnSync('node_modules/.bin/wrangler', ['deploy', '--dry-run', '--outdir', plain], { env, stdio: 'ignore' })
  spawnSync('node_modules/.bin/wrangler', ['deploy', '--dry-run', '--minify', '--outdir', min], { env, stdio: 'ignore' })
  const a = sizeOf(plain)
  const b = sizeOf(min)
  return { raw: a.raw, gzip: a.gzip, minRaw: b.raw, minGzip: b.gzip }
}

const started = Date.now()
const m = await bundleMeasurements()
const cpu = cpus()
const machine = { cpus: cpu.length, model: cpu[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), freeGiB: Math.round(freemem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.versions.node, workerd: JSON.parse(readFileSync('node_modules/workerd/package.json', 'utf8')).version }
const date = new Date().toISOString()
const results = only ? JSON.parse(readFileSync('bench/results.json', 'utf8')) : { date, quick, machine }

if (want('size')) {
  log('1. script size')
  // The tracking core every page loads, and the renderer it imports only when an answer carries content.
  results.size = { ...sdkSizes(), budget: BUDGET_GZIP.core, renderer: { ...sdkSizes(rendererFile()), budget: BUDGET_GZIP.renderer } }
}
if (want('edge')) {
  log('2. decision throughput at the edge runtime (wrangler dev + autocannon)')
  log('  the Worker alone (queue consumer off)')
  results.edge = await measureEdgeLoad({ quick, consumer: false, log })
  log('  with the queue consumer writing D1 in the same workerd')
  results.edgeWithConsumer = await measureEdgeLoad({ quick, consumer: true, log })
}
if (want('decision')) {
  log('3. evaluation cost (tinybench)')
  results.decision = await m.measureDecision({ quick })
}
if (want('backfill')) {
  log('4. backfill on local D1, and 7. the write side on the same sites')
  results.backfill = []
  results.writeSide = []
  for (const contacts of quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]) {
    log(`  ${contacts.toLocaleString('en-US')} contacts`)
    const site = await m.loadSite(contacts, log)
    try {
      results.backfill.push(await m.backfillOn(site))
      results.writeSide.push(await m.writeSideOn(site, quick ? 2 : 5))
    } finally {
      await site.dispose()
    }
  }
}
if (want('bundle')) {
  log('5. worker bundle')
  results.bundle = workerBundle()
}
if (want('hotpath')) {
  log('6. hot-path I/O')
  results.hotPath = await m.measureHotPath()
}
if (want('shards')) {
  log('8. the same contacts on 1, 2 and 4 data shards')
  results.shards = await m.measureShardCounts(quick ? { contacts: 20_000, rounds: 2 } : { contacts: 100_000, rounds: 3 }, log)
}
// Sections measured apart from the run the rest of results.json is from: when, how, and on what.
if (only) results.apart = { ...results.apart, ...Object.fromEntries(only.map((name) => [name, { date, quick, machine, seconds: Math.round((Date.now() - started) / 1000) }])) }
else results.seconds = Math.round((Date.now() - started) / 1000)

writeFileSync('bench/results.json', JSON.stringify(results, null, 2) + '\n')
const doc = 'docs/BENCHMARKS.md'
const block = `<!-- results:start -->\n${markdown(results)}\n<!-- results:end -->`
const current = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n'
writeFileSync(doc, current.replace(/<!-- results:start -->[\s\S]*<!-- results:end -->/, block))
console.log(`\n${terminal(results)}\n\nWrote bench/results.json and ${doc} in ${Math.round((Date.now() - started) / 1000)} s.`)

