/**
 * The renderer: a module of its own that the script tag loads only when an answer carries content.
 * Shows content in a Shadow DOM, so the site's CSS cannot reach it and its CSS cannot reach the site.
 * Popups are modal dialogs: focus moves in and comes back, Tab stays inside, Escape and a visible close
 * button close them, and a click on the backdrop does when the content allows it. One popup at a time;
 * others wait their turn. Text is inserted as text; the body only after sanitizing. Content in a
 * right-to-left language is laid out right to left.
 */
import { type ContentPayload } from '../../shared/content'
import { type ContentAction } from '../../shared/events'
import { when } from './display'
import { el } from './dom'
import { type Submission, renderForm } from './form'
import { safeUrl, sanitize } from './sanitize'

export type { Submission }

const doc = document

/** How the renderer tells the core what the visitor did; a form's `submitted` brings its values. */
export type Report = (content: ContentPayload, action: ContentAction, who?: Submission, consent?: boolean) => void

const CSS =
  ':host{all:initial}*{box-sizing:border-box}' +
  '.w{position:fixed;inset:0;display:flex;padding:16px;z-index:2147483647;pointer-events:none;font:15px/1.5 system-ui,sans-serif;color:#222}' +
  '.d{background:#0008;pointer-events:auto}' +
  '.b{position:relative;background:#fff;border-radius:12px;box-shadow:0 8px 32px #0005;padding:24px;width:420px;max-width:100%;max-height:100%;overflow:auto;pointer-events:auto}' +
  '.bar{padding:0}.bar .b{width:100%;border-radius:0;padding:12px 16px;padding-inline-end:56px}' +
  '.inline{position:static;padding:0}.inline .b{width:auto;box-shadow:none;border:1px solid #ddd}' +
  'h2{margin:0 0 8px;margin-inline-end:32px;font-size:20px}p{margin:0 0 8px}img{max-width:100%;display:block;margin:0 0 12px}' +
  '.x{position:absolute;top:6px;inset-inline-end:6px;width:40px;height:40px;border:0;background:none;font-size:26px;cursor:pointer;color:inherit}' +
  '.c,.s{display:inline-block;margin-top:8px;padding:10px 18px;border:0;border-radius:8px;background:#222;color:#fff;font:inherit;text-decoration:none;cursor:pointer}' +
  'form{display:grid;gap:4px}label{display:grid;gap:2px;font-weight:600}.k{display:flex;gap:8px;font-weight:400}' +
  'input{font:inherit;font-weight:400;padding:8px;border:1px solid #888;border-radius:6px}.k input{margin:4px 0}[aria-invalid]{border-color:#c00}' +
  '.e{margin:0;color:#c00;font-size:13px}.e:empty{display:none}.bar form{display:flex;flex-wrap:wrap;align-items:end;gap:8px}' +
  ':focus-visible{outline:3px solid #26e;outline-offset:2px}.t:focus{outline:0}'

let popupOpen = false
const waiting: Array<() => void> = []
/** How to take each piece of content on screen away again, its listeners with it, by content id. */
const onScreen = new Map<string, () => void>()
/** Bumped by reset(): a display trigger set before it then fires for nothing. */
let generation = 0

/**
 * Removes everything shown and forgets waiting popups and pending display triggers (the console's live
 * preview starts over with it).
 */
export function reset(): void {
  onScreen.forEach((remove) => remove())
  generation++
  popupOpen = false
  waiting.length = 0
}

/** Shows one piece of content once its display trigger fires. */
export function show(c: ContentPayload, report: Report): void {
  const since = generation
  when(c.display, () => {
    if (since != generation) return
    // Content on screen already (a single-page app's next page brought it again): a popup stays as it is,
    // anything else is drawn anew, with what the answer says now (a name the visitor just gave).
    const shown = onScreen.get(c.id)
    if (shown && c.format == 'popup') return
    if (shown) shown()
    if (c.format != 'popup') return render(c, report)
    if (popupOpen) return void waiting.push(() => render(c, report))
    render(c, report)
  })
}

function render(c: ContentPayload, report: Report): void {
  const popup = c.format == 'popup'
  const host = el('div')
  host.setAttribute('data-segue', c.id)
  const root = host.attachShadow({ mode: 'open' })
  const style = el('style')
  style.textContent = CSS
  const wrap = el('div', 'w ' + c.format + (popup ? ' d' : ''))
  const pos = c.position || 'center'
  wrap.style.alignItems = pos.indexOf('top') == 0 ? 'flex-start' : pos.indexOf('bottom') == 0 ? 'flex-end' : 'center'
  // Physical sides, so a right-to-left page or version does not swap the owner's left and right.
  wrap.style.justifyContent = /left$/.test(pos) ? 'left' : /right$/.test(pos) ? 'right' : 'center'
  const box = el('div', 'b')
  if (c.lang) box.lang = c.lang
  if (c.dir || c.lang) box.dir = c.dir || 'ltr'
  const label = 'segue-' + c.id
  if (c.format != 'inline') {
    box.setAttribute('role', popup ? 'dialog' : 'region')
    if (popup) box.setAttribute('aria-modal', 'true')
    if (c.title) box.setAttribute('aria-labelledby', label)
    else box.setAttribute('aria-label', 'Message')
  }
  const close = el('button', 'x', '×')
  close.type = 'button'
  close.setAttribute('aria-label', 'Close')
  if (c.format != 'inline') box.appendChild(close)
  if (c.title) {
    const h = el('h2', '', c.title)
    h.id = label
    box.appendChild(h)
  }
  const image = safeUrl(c.image)
  if (image) {
    const img = el('img')
    img.src = image
    img.alt = ''
    box.appendChild(img)
  }
  if (c.body) box.appendChild(sanitize(c.body))
  if (c.form) box.appendChild(renderForm(c.form, (who, consent) => report(c, 'submitted', who, consent)))
  const cta = c.cta && safeUrl(c.cta.url, true)
  if (cta) {
    const a = el('a', 'c', c.cta!.label)
    a.href = cta
    box.appendChild(a)
  }
  box.addEventListener('click', (e) => {
    if ((e.target as Element).closest('a')) report(c, 'clicked')
  })
  wrap.appendChild(box)
  root.appendChild(style)
  root.appendChild(wrap)

  const before = doc.activeElement as HTMLElement | null
  const onKey = (e: KeyboardEvent) => {
    if (e.key == 'Escape') dismiss()
    if (e.key != 'Tab' || !popup) return
    const focusable = box.querySelectorAll<HTMLElement>('a[href],button,input,[tabindex]')
    const first = focusable[0]
    const last = focusable[focusable.length - 1]
    const active = root.activeElement
    if (e.shiftKey ? active == first : active == last) {
      e.preventDefault()
      ;(e.shiftKey ? last : first).focus()
    }
  }
  const remove = () => {
    host.remove()
    doc.removeEventListener('keydown', onKey)
    if (onScreen.get(c.id) == remove) onScreen.delete(c.id)
  }
  const dismiss = () => {
    remove()
    report(c, 'closed')
    if (!popup) return
    popupOpen = false
    if (before && before.focus) before.focus()
    const next = waiting.shift()
    if (next) next()
  }
  close.addEventListener('click', dismiss)
  if (popup) {
    popupOpen = true
    wrap.addEventListener('click', (e) => {
      if (e.target == wrap && c.backdropCloses !== false) dismiss()
    })
  }
  if (c.format != 'inline') doc.addEventListener('keydown', onKey)

  if (!place(host, c)) return remove()
  onScreen.set(c.id, remove)
  report(c, 'shown')
  if (popup) close.focus()
}

/** Puts the host in the page: at the end of the body, or beside the element an inline block names. */
function place(host: HTMLElement, c: ContentPayload): boolean {
  if (c.format != 'inline') return !!doc.body.appendChild(host)
  let target: Element | null = null
  try {
    target = doc.querySelector(c.selector || '')
  } catch {
    // an invalid selector finds nothing
  }
  if (!target) return false
  const p = c.placement
  if (p == 'before') target.before(host)
  else if (p == 'after') target.after(host)
  else if (p == 'replace') target.replaceWith(host)
  else target.appendChild(host)
  return true
}
