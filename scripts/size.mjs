/**
 * `npm run size`: the gzip and brotli sizes of the script tag's two assets against their budgets (gzip):
 * dist/assets/sdk.js, the tracking core every page loads (2,560 B), and the renderer it imports only when
 * an answer carries content, dist/assets/render.<hash>.js (4,096 B). Then the console's page scripts and
 * stylesheets, each page loading only its own (and common.js, console.css): every script within 128 KiB
 * gzip, which only the workflow canvas comes near. Exits non-zero above any budget, so CI fails on a
 * script that grew too large.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

export const OUT = 'dist/assets'
export const BUDGET_GZIP = { core: 2560, renderer: 4096, consolePage: 131072 }

export function sdkSizes(file = `${OUT}/sdk.js`) {
  const raw = readFileSync(file)
  return {
    raw: raw.length,
    gzip: gzipSync(raw, { level: 9 }).length,
    brotli: brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  }
}

/** The renderer file sdk.js imports, as the build wrote its name into it. */
export function rendererFile(core = `${OUT}/sdk.js`) {
  const name = readFileSync(core, 'utf8').match(/"(render\.[\w-]+\.js)"/)
  if (!name) throw new Error(`${core} names no renderer: run npm run build`)
  return `${OUT}/${name[1]}`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let over = false
  for (const [label, file, budget] of [
    ['core', `${OUT}/sdk.js`, BUDGET_GZIP.core],
    ['renderer', rendererFile(), BUDGET_GZIP.renderer],
  ]) {
    const s = sdkSizes(file)
    const verdict = s.gzip <= budget ? 'within' : 'OVER'
    console.log(`${label} ${file.slice(OUT.length + 1)}: ${s.raw} B raw, ${s.gzip} B gzip, ${s.brotli} B brotli — ${verdict} the ${budget} B gzip budget (${budget - s.gzip} B left)`)
    over ||= s.gzip > budget
  }
  console.log('\nconsole page assets (dist/assets/console/):')
  for (const name of readdirSync(`${OUT}/console`).filter((n) => /\.(js|css)$/.test(n)).sort()) {
    const s = sdkSizes(`${OUT}/console/${name}`)
    const budgeted = name.endsWith('.js')
    const verdict = !budgeted ? '' : s.gzip <= BUDGET_GZIP.consolePage ? ' — within' : ' — OVER'
    console.log(`  ${name.padEnd(20)} ${String(s.raw).padStart(7)} B raw ${String(s.gzip).padStart(6)} B gzip ${String(s.brotli).padStart(6)} B brotli${verdict}`)
    over ||= budgeted && s.gzip > BUDGET_GZIP.consolePage
  }
  console.log(`  (each page loads common.js and console.css, and its own script; the workflow page also workflow.css. Budget per script: ${BUDGET_GZIP.consolePage} B gzip)`)
  if (over) process.exit(1)
}
