// Builds the browser SDK into dist/assets, which the Worker serves as static assets: sdk.js (the script
// tag, an IIFE served at /sdk.js) and segue.mjs (ESM for bundlers; types in dist/assets/types).
import { OUT, min, ts } from '../scripts/rollup-plugins.mjs'

export default [
  { input: 'sdk/src/script-tag.ts', output: { file: `${OUT}/sdk.js`, format: 'iife' }, plugins: [ts('sdk/tsconfig.json'), min()] },
  { input: 'sdk/src/index.ts', output: { file: `${OUT}/segue.mjs`, format: 'es' }, plugins: [ts('sdk/tsconfig.json'), min()] },
]
