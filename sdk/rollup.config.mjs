// Builds the browser code into dist/assets, which the Worker serves as static assets:
// sdk.js (the script tag, an IIFE served at /sdk.js), segue.mjs (ESM for bundlers; types in
// dist/assets/types) and the admin console's page scripts in console/.
import terser from '@rollup/plugin-terser'
import typescript from '@rollup/plugin-typescript'

const OUT = 'dist/assets'
const ts = (tsconfig) => typescript({ tsconfig, compilerOptions: { noEmit: false, declaration: false } })
const min = () =>
  terser({
    ecma: 2020,
    module: true,
    compress: { passes: 4, unsafe: true, unsafe_arrows: true, unsafe_methods: true, pure_getters: true },
    format: { comments: false },
  })

const consolePage = (name) => ({
  input: `worker/console/client/${name}.ts`,
  output: { file: `${OUT}/console/${name}.js`, format: 'iife' },
  plugins: [ts('worker/console/client/tsconfig.json'), min()],
})

export default [
  { input: 'sdk/src/script-tag.ts', output: { file: `${OUT}/sdk.js`, format: 'iife' }, plugins: [ts('sdk/tsconfig.json'), min()] },
  { input: 'sdk/src/index.ts', output: { file: `${OUT}/segue.mjs`, format: 'es' }, plugins: [ts('sdk/tsconfig.json'), min()] },
  ...['common', 'conditions', 'workflow', 'content', 'preview'].map(consolePage),
]
