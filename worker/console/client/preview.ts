/**
 * Runs inside the console's preview frame: renders what the content editor sends with the SDK's own
 * renderer, so the preview is what a visitor will see.
 */
import { type ContentPayload } from '../../../shared/content'
import { reset, show } from '../../../sdk/src/render'

addEventListener('message', (e: MessageEvent<{ type?: string; content?: ContentPayload }>) => {
  if (e.origin !== location.origin || e.data?.type !== 'segue-preview' || !e.data.content) return
  reset()
  show(e.data.content, () => undefined)
})
