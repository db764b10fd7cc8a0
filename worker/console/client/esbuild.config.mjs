// Builds the workflow page's script: a Preact app drawing the canvas with React Flow (xyflow's React
// build, through preact/compat) and laying it out with dagre. esbuild bundles those npm packages (ES
// modules, CommonJS and CSS alike) into dist/assets/console/workflow.js and workflow.css, which only the
// workflow page loads. Run after rollup (npm run build).
import { build } from 'esbuild'
import { OUT } from '../../../scripts/rollup-plugins.mjs'

await build({
  entryPoints: { workflow: 'worker/console/client/workflow/index.tsx' },
  outdir: `${OUT}/console`,
  bundle: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  alias: { react: 'preact/compat', 'react-dom': 'preact/compat', 'react/jsx-runtime': 'preact/jsx-runtime' },
  define: { 'process.env.NODE_ENV': '"production"' },
  minify: true,
  logLevel: 'warning',
})
