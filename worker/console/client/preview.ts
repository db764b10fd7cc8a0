/**
 * Runs inside the console's preview frame: renders what the content editor sends with the SDK's own
 * renderer, so the preview is what a visitor will see.
 */
import { type ContentPayload } from '../../../shared/content'
import { reset, show } from '../../../sdk/src/render'

// On a site the renderer moves the focus into a popup as it opens; here each keystroke in the editor
// redraws the popup, so the focus moves only while the owner is working in the preview itself.
const focus = HTMLElement.prototype.focus
HTMLElement.prototype.focus = function (this: HTMLElement, options?: FocusOptions) {
  if (document.hasFocus()) focus.call(this, options)
}

addEventListener('message', (e: MessageEvent<{ type?: string; content?: ContentPayload }>) => {
  if (e.origin !== location.origin || e.data?.type !== 'segue-preview' || !e.data.content) return
  reset()
  show(e.data.content, () => undefined)
})
