/**
 * The script-tag build: `<script async src="https://EDGE/sdk.js" data-site="SITE_KEY"></script>`.
 * Reads its settings from its own data attributes, replays the calls the page queued before it loaded
 * (`window.segue=window.segue||function(){(segue.q=segue.q||[]).push(arguments)}`), and becomes
 * `window.segue`, the one global it adds.
 */
import { create } from './core'

type Stub = ((...args: unknown[]) => void) & { q?: ArrayLike<unknown>[] }

try {
  const script = document.currentScript as HTMLScriptElement | null
  const d = (script && script.dataset) || {}
  if (d.site) {
    const segue = create({
      site: d.site,
      endpoint: d.endpoint || new URL(script!.src).origin,
      consentRequired: d.consent == 'required',
      respectDnt: d.respectDnt != 'false',
      debug: d.debug !== undefined,
    })
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
