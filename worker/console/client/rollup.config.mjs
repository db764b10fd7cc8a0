// Builds the admin console's page scripts into dist/assets/console/, one IIFE a page, which the Worker
// serves as static assets (each page loads only its own).
import { OUT, min, ts } from '../../../scripts/rollup-plugins.mjs'

const PAGES = ['common', 'conditions', 'workflow', 'workflow-order', 'content', 'preview']

export default PAGES.map((name) => ({
  input: `worker/console/client/${name}.ts`,
  output: { file: `${OUT}/console/${name}.js`, format: 'iife' },
  plugins: [ts('worker/console/client/tsconfig.json'), min()],
}))
