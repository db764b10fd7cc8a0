// The rollup plugins every browser build of Segue uses: TypeScript with a project's tsconfig, and terser
// squeezing hard (the SDK counts its bytes; the console's page scripts benefit too).
import terser from '@rollup/plugin-terser'
import typescript from '@rollup/plugin-typescript'

/** The Worker serves what lands here as static assets. */
export const OUT = 'dist/assets'

export const ts = (tsconfig) => typescript({ tsconfig, compilerOptions: { noEmit: false, declaration: false } })

export const min = () =>
  terser({
    ecma: 2020,
    module: true,
    compress: { passes: 4, unsafe: true, unsafe_arrows: true, unsafe_methods: true, pure_getters: true },
    format: { comments: false },
  })
