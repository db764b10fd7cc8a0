/**
 * The Worker's allow-list again, in the browser (defence in depth): p, a (http, https or mailto),
 * strong, em, br, ul, ol, li, img (http or https). The HTML is parsed in an inert <template> and rebuilt
 * element by element; nothing of the original markup is inserted.
 */
const ALLOWED = ' P A STRONG EM BR UL OL LI IMG '
const DROPPED = ' SCRIPT STYLE TEMPLATE IFRAME OBJECT EMBED SVG MATH NOSCRIPT TEXTAREA SELECT TITLE '

export function safeUrl(value: string | null | undefined, mail?: boolean): string | undefined {
  try {
    const u = new URL(value || '')
    if (u.protocol == 'https:' || u.protocol == 'http:' || (mail && u.protocol == 'mailto:')) return u.href
  } catch {
    // not a URL: dropped
  }
  return undefined
}

const doc = document

export function sanitize(html: string): DocumentFragment {
  const t = doc.createElement('template')
  t.innerHTML = html
  const out = doc.createDocumentFragment()
  copy(t.content, out)
  return out
}

function copy(from: Node, to: Node): void {
  for (let n = from.firstChild; n; n = n.nextSibling) {
    if (n.nodeType == 3) to.appendChild(doc.createTextNode(n.nodeValue || ''))
    if (n.nodeType != 1) continue
    const tag = n.nodeName.toUpperCase()
    if (DROPPED.indexOf(' ' + tag + ' ') >= 0) continue
    if (ALLOWED.indexOf(' ' + tag + ' ') < 0) {
      copy(n, to)
      continue
    }
    const el = doc.createElement(tag)
    const src = n as Element
    if (tag == 'A') {
      const href = safeUrl(src.getAttribute('href'), true)
      if (href) el.setAttribute('href', href)
      el.setAttribute('rel', 'noopener noreferrer')
    }
    if (tag == 'IMG') {
      const url = safeUrl(src.getAttribute('src'))
      if (!url) continue
      el.setAttribute('src', url)
      el.setAttribute('alt', src.getAttribute('alt') || '')
    }
    copy(n, el)
    to.appendChild(el)
  }
}
