// @vitest-environment node
/**
 * The built SDK (`npm run build`, which `npm test` runs first): sdk.js names a renderer that sits beside
 * it and can load alone, segue.mjs imports that same file, and a site's bundler splits it off.
 */
import { readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { OUT, rendererFile } from '../scripts/size.mjs'

describe('the built SDK', () => {
  it('has sdk.js import a renderer beside it that imports nothing else', () => {
    const renderer = rendererFile()
    expect(renderer).toMatch(/^dist\/assets\/render\.[\w-]+\.js$/)
    const code = readFileSync(renderer, 'utf8')
    expect(code).not.toMatch(/\bimport\s*[("{*]|\bfrom\s*["']/)
    expect(code).toMatch(/export\s*\{[^}]*\bas show\b|export\s*\{[^}]*\bshow\b/)
    expect(readFileSync(`${OUT}/sdk.js`, 'utf8')).not.toContain(':host{all:initial}')
  })

  it('has segue.mjs import the same renderer, which a bundler splits into a chunk of its own', async () => {
    const name = rendererFile().slice(OUT.length + 1)
    expect(readFileSync(`${OUT}/segue.mjs`, 'utf8')).toContain(`import("./${name}")`)
    const out = await build({
      stdin: { contents: `import { init } from './segue.mjs'; init({ site: 'pk_x', endpoint: 'https://edge.example' })`, resolveDir: OUT, loader: 'js' },
      bundle: true,
      splitting: true,
      format: 'esm',
      outdir: 'out',
      write: false,
    })
    const [entry, ...chunks] = out.outputFiles
    expect(chunks).toHaveLength(1)
    expect(entry.text).not.toContain(':host{all:initial}')
    expect(chunks[0].text).toContain(':host{all:initial}')
  })
})
