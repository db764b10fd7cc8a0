/**
 * The script-tag build: `<script async src="https://EDGE/sdk.js" data-site="SITE_KEY"></script>`.
 * Reads its settings from its own data attributes, replays the calls the page queued before it loaded
 * (`window.segue=window.segue||function(){(segue.q=segue.q||[]).push(arguments)}`), and becomes
 * `window.segue`, the one global it adds. The renderer sits beside it (render.<hash>.js) and is
 * imported only when an answer carries content.
 */
import { type Renderer, create } from './core'
import { RENDER_FILE } from './render-file'

type Stub = ((...args: unknown[]) => void) & { q?: ArrayLike<unknown>[] }

try {
  const script = document.currentScript as HTMLScriptElement | null
  const d = (script && script.dataset) || {}
  if (d.site) {
    const src = script!.src
    const segue = create(
      {
        site: d.site,
        endpoint: d.endpoint || new URL(src).origin,
        consentRequired: d.consent == 'required',
        respectDnt: d.respectDnt != 'false',
        hashRoutes: d.hashRoutes !== undefined,
        debug: d.debug !== undefined,
      },
      () => import(/* @vite-ignore */ new URL(RENDER_FILE, src).href) as Promise<Renderer>,
    )
    const w = window as unknown as { segue?: Stub }
    const queued = (w.segue && w.segue.q) || []
    w.segue = function () {
      // eslint-disable-next-line prefer-rest-params
      segue.command(arguments)
    }
    // Calls the page made before the script arrived (an identify, say) belong before this page visit.
    for (let i = 0; i < queued.length; i++) segue.command(queued[i])
    segue.start()
  }
} catch {
  // The host page comes first: a failure here must never reach it.
}
