/**
 * `npm run size`: the gzip and brotli sizes of dist/assets/sdk.js, against the 4 KB (gzip) budget.
 * Exits non-zero above it, so CI fails on a script that grew too large.
 */
import { readFileSync } from 'node:fs'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

export const BUDGET_GZIP = 4096

export function sdkSizes(file = 'dist/assets/sdk.js') {
  const raw = readFileSync(file)
  return {
    raw: raw.length,
    gzip: gzipSync(raw, { level: 9 }).length,
    brotli: brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = sdkSizes()
  const verdict = s.gzip <= BUDGET_GZIP ? 'within' : 'OVER'
  console.log(`sdk.js: ${s.raw} B raw, ${s.gzip} B gzip, ${s.brotli} B brotli — ${verdict} the ${BUDGET_GZIP} B gzip budget (${BUDGET_GZIP - s.gzip} B left)`)
  if (s.gzip > BUDGET_GZIP) process.exit(1)
}
