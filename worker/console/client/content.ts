/**
 * Live preview of the content being edited: the form's values go to the preview frame, which renders
 * them with the SDK's own renderer. The schedule's weekly hours are added and removed in place.
 */
import { weeklyHours } from './weekly-hours'

const form = document.getElementById('content-form') as HTMLFormElement
const frame = document.getElementById('preview') as HTMLIFrameElement

function payload() {
  const v = Object.fromEntries(new FormData(form).entries()) as Record<string, string>
  const content: Record<string, unknown> = { id: 'preview', format: v.format, display: { on: 'immediately' } }
  if (v.format === 'inline') {
    content.selector = '#slot'
    content.placement = v.placement || 'inside'
  } else content.position = v.position || (v.format === 'bar' ? 'top' : v.format === 'popup' ? 'center' : 'bottom-right')
  for (const k of ['title', 'body', 'image']) if (v[k]) content[k] = v[k]
  if (v.ctaLabel && v.ctaUrl) content.cta = { label: v.ctaLabel, url: v.ctaUrl }
  content.backdropCloses = v.backdropCloses === 'on'
  return content
}

function send() {
  frame.contentWindow?.postMessage({ type: 'segue-preview', content: payload() }, location.origin)
}

form.addEventListener('input', send)
form.addEventListener('change', send)
frame.addEventListener('load', send)

const schedule = document.getElementById('schedule')
if (schedule) weeklyHours(schedule)
