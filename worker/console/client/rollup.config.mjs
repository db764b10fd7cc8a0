// Builds the admin console's page scripts into dist/assets/console/, one IIFE a page, which the Worker
// serves as static assets (each page loads only its own). The workflow page's script is built by
// esbuild.config.mjs.
import { readFileSync } from 'node:fs'
import { OUT, min, ts } from '../../../scripts/rollup-plugins.mjs'

const PAGES = ['common', 'conditions', 'workflow-order', 'content', 'preview', 'import']

// papaparse ships one UMD file: read as an ES module, its CommonJS branch fills `module.exports` (and
// the `this` it is called with is the global object, as in a script).
const papaparse = () => ({
  name: 'papaparse',
  resolveId: (id) => (id === 'papaparse' ? '\0papaparse' : null),
  load: (id) =>
    id === '\0papaparse'
      ? `const module = { exports: {} }, exports = module.exports;\n(function () {\n${readFileSync('node_modules/papaparse/papaparse.min.js', 'utf8')}\n}).call(globalThis)\nexport default module.exports`
      : null,
})

export default PAGES.map((name) => ({
  input: `worker/console/client/${name}.ts`,
  output: { file: `${OUT}/console/${name}.js`, format: 'iife' },
  plugins: [papaparse(), ts('worker/console/client/tsconfig.json'), min()],
}))
