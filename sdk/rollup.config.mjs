// Builds the SDK: sdk/dist/sdk.js (the script tag, an IIFE the Worker serves at /sdk.js) and
// sdk/dist/segue.mjs (ESM for bundlers; types in sdk/dist/types).
import terser from '@rollup/plugin-terser'
import typescript from '@rollup/plugin-typescript'

const ts = () => typescript({ tsconfig: 'sdk/tsconfig.json', compilerOptions: { noEmit: false, declaration: false } })
const min = () =>
  terser({
    ecma: 2020,
    module: true,
    compress: { passes: 4, unsafe: true, unsafe_arrows: true, unsafe_methods: true, pure_getters: true },
    format: { comments: false },
  })

export default [
  {
    input: 'sdk/src/script-tag.ts',
    output: { file: 'sdk/dist/sdk.js', format: 'iife' },
    plugins: [ts(), min()],
  },
  {
    input: 'sdk/src/index.ts',
    output: { file: 'sdk/dist/segue.mjs', format: 'es' },
    plugins: [ts(), min()],
  },
]
