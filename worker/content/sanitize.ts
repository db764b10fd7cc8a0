/**
 * Reduces HTML to Segue's allow-list: p, a (http, https or mailto href), strong, em, br, ul, ol, li and
 * img (http or https src). The output is rebuilt from parsed pieces, never copied from the input: text is
 * re-escaped, tags are re-written with only the attributes kept, so nothing outside the list survives.
 * Elements whose content is code or another document (script, style, iframe...) go with their content;
 * any other tag goes and leaves its text.
 *
 * @example
 * sanitizeHtml('<p onclick="x()">Hi <script>steal()</script><b>there</b></p>') // '<p>Hi there</p>'
 */

const ALLOWED = new Set(['p', 'a', 'strong', 'em', 'br', 'ul', 'ol', 'li', 'img'])
const VOID = new Set(['br', 'img'])
const DROP_WITH_CONTENT = new Set([
  'script', 'style', 'iframe', 'object', 'embed', 'template', 'noscript', 'textarea', 'title', 'svg', 'math',
  'select', 'xmp', 'noembed', 'noframes', 'plaintext', 'head', 'frameset', 'frame', 'applet', 'audio', 'video',
])
const ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', hellip: '…',
  mdash: '—', ndash: '–', euro: '€', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”',
}

export function sanitizeHtml(input: string): string {
  let out = ''
  const open: string[] = []
  let i = 0
  while (i < input.length) {
    const lt = input.indexOf('<', i)
    if (lt < 0) {
      out += escapeText(decodeEntities(input.slice(i)))
      break
    }
    out += escapeText(decodeEntities(input.slice(i, lt)))
    if (input.startsWith('<!--', lt)) {
      const end = input.indexOf('-->', lt + 4)
      i = end < 0 ? input.length : end + 3
      continue
    }
    const tag = /^<(\/?)([A-Za-z][A-Za-z0-9-]*)/.exec(input.slice(lt, lt + 64))
    if (!tag) {
      if (input[lt + 1] === '!' || input[lt + 1] === '?' || input[lt + 1] === '/') {
        const end = input.indexOf('>', lt)
        i = end < 0 ? input.length : end + 1
      } else {
        out += '&lt;'
        i = lt + 1
      }
      continue
    }
    const closing = tag[1] === '/'
    const name = tag[2].toLowerCase()
    const { attrs, end } = readAttributes(input, lt + tag[0].length)
    i = end
    if (closing) {
      const at = open.lastIndexOf(name)
      if (at >= 0) {
        while (open.length > at) out += `</${open.pop()}>`
      }
      continue
    }
    if (DROP_WITH_CONTENT.has(name)) {
      const close = new RegExp(`</${name}\\s*>`, 'i').exec(input.slice(i))
      i = close ? i + close.index + close[0].length : input.length
      continue
    }
    if (!ALLOWED.has(name)) continue
    const kept = keepAttributes(name, attrs)
    if (kept === undefined) continue
    out += `<${name}${kept}>`
    if (!VOID.has(name)) open.push(name)
  }
  while (open.length > 0) out += `</${open.pop()}>`
  return out
}

function readAttributes(s: string, from: number): { attrs: Map<string, string>; end: number } {
  const attrs = new Map<string, string>()
  const re = /\s*([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?|\s*\/|\s+/y
  let i = from
  while (i < s.length && s[i] !== '>') {
    re.lastIndex = i
    const m = re.exec(s)
    if (!m || m[0].length === 0) {
      i++
      continue
    }
    if (m[1] && !attrs.has(m[1].toLowerCase())) attrs.set(m[1].toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''))
    i = re.lastIndex
  }
  return { attrs, end: Math.min(i + 1, s.length) }
}

function keepAttributes(name: string, attrs: Map<string, string>): string | undefined {
  if (name === 'a') {
    const href = safeUrl(attrs.get('href'), ['http:', 'https:', 'mailto:'])
    return href ? ` href="${escapeAttr(href)}" rel="noopener noreferrer"` : ''
  }
  if (name === 'img') {
    const src = safeUrl(attrs.get('src'), ['http:', 'https:'])
    if (!src) return undefined
    let kept = ` src="${escapeAttr(src)}" alt="${escapeAttr(attrs.get('alt') ?? '')}"`
    for (const dim of ['width', 'height']) {
      const v = attrs.get(dim)
      if (v && /^\d{1,4}$/.test(v)) kept += ` ${dim}="${v}"`
    }
    return kept
  }
  return ''
}

// What the URL parser strips from both ends of its input: C0 controls and space.
const EDGE_CONTROLS = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g

/**
 * The URL as the URL parser writes it (what a browser follows), if its scheme is one of `schemes`; else
 * undefined. What the parser would silently change is refused, not guessed at: it deletes tabs and
 * newlines anywhere (`http://a\tb.example` is another host). Leading and trailing spaces and controls
 * go, as in browsers; a space inside a host does not parse.
 *
 * @example
 * safeUrl(' HTTP://Shop.Example/a/../b c', ['http:', 'https:']) // 'http://shop.example/b%20c'
 * safeUrl('http://a b.example/', ['http:', 'https:']) // undefined
 */
export function safeUrl(value: string | undefined, schemes: readonly string[]): string | undefined {
  if (!value || /[\t\n\r]/.test(value.replace(EDGE_CONTROLS, ''))) return undefined
  try {
    const url = new URL(value)
    return schemes.includes(url.protocol) ? url.href : undefined
  } catch {
    return undefined
  }
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]{2,8});/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : ''
    }
    return ENTITIES[ref.toLowerCase()] ?? whole
  })
}

export function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
}

/** Text made safe anywhere in HTML, inside an attribute's quotes too: & < > " ' escaped. */
export function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}
