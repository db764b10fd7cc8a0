// Builds the browser SDK into dist/assets, which the Worker serves as static assets:
// - segue.mjs, ESM for bundlers (types in dist/assets/types), which imports the renderer with a literal
//   import('./render'): rollup splits it into render.<hash>.js, a module that imports nothing;
// - sdk.js, the script tag (an IIFE served at /sdk.js): the tracking core alone, which imports that same
//   render.<hash>.js from beside itself when an answer carries content. The name is content-hashed, so
//   the file can be cached for good.
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { OUT, min, ts } from '../scripts/rollup-plugins.mjs'

const RENDER_FILE_MODULE = '\0segue:render-file'
let renderFile

// sdk.js names the renderer built with it: renderers of earlier builds go.
if (existsSync(OUT)) for (const f of readdirSync(OUT)) if (/^render\..+\.js$/.test(f)) rmSync(`${OUT}/${f}`)

/** Records the renderer chunk's name, and refuses a renderer that the script tag could not load alone. */
const recordRenderer = () => ({
  name: 'segue-record-renderer',
  generateBundle(_, bundle) {
    const chunks = Object.values(bundle).filter((c) => c.type == 'chunk' && !c.isEntry)
    if (chunks.length != 1 || chunks[0].imports.length || !chunks[0].exports.includes('show'))
      this.error('the renderer must be one chunk that exports show and imports nothing: sdk.js loads it by itself')
    renderFile = chunks[0].fileName
  },
})

/** Gives sdk.js the name the ESM build just wrote (rollup runs the builds of this file in order). */
const renderFileName = () => ({
  name: 'segue-render-file',
  resolveId: (source) => (source == './render-file' ? RENDER_FILE_MODULE : null),
  load: (id) => (id == RENDER_FILE_MODULE ? `export const RENDER_FILE = ${JSON.stringify(renderFile)}` : null),
})

export default [
  {
    input: 'sdk/src/index.ts',
    output: { dir: OUT, format: 'es', entryFileNames: 'segue.mjs', chunkFileNames: 'render.[hash].js' },
    plugins: [ts('sdk/tsconfig.json'), min(), recordRenderer()],
  },
  { input: 'sdk/src/script-tag.ts', output: { file: `${OUT}/sdk.js`, format: 'iife' }, plugins: [renderFileName(), ts('sdk/tsconfig.json'), min()] },
]
