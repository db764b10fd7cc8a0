/**
 * The Worker's HTML allow-list under hostile input (scripts, schemes in disguise, unclosed tags, odd
 * attributes), and URLs written as the URL parser writes them, or refused.
 */
import { describe, expect, it } from 'vitest'
import { safeUrl, sanitizeHtml } from './sanitize'

const cases: Array<[string, string, string]> = [
  ['keeps the allowed tags', '<p>Hi <strong>you</strong> <em>there</em><br></p><ul><li>a</li></ul><ol><li>b</li></ol>', '<p>Hi <strong>you</strong> <em>there</em><br></p><ul><li>a</li></ul><ol><li>b</li></ol>'],
  ['drops scripts with their content', '<p>a<script>alert(1)</script>b</p>', '<p>ab</p>'],
  ['drops styles and iframes with their content', '<style>p{}</style><iframe src="x">y</iframe>ok', 'ok'],
  ['keeps the text of other tags', '<div><span>text</span></div>', 'text'],
  ['drops event handler attributes', '<p onclick="steal()" class="x">a</p>', '<p>a</p>'],
  ['keeps http links', '<a href="https://shop.example/rock">Rock</a>', '<a href="https://shop.example/rock" rel="noopener noreferrer">Rock</a>'],
  ['keeps mailto links', '<a href="mailto:hi@shop.example">mail</a>', '<a href="mailto:hi@shop.example" rel="noopener noreferrer">mail</a>'],
  ['drops javascript: links but keeps their text', '<a href="javascript:alert(1)">x</a>', '<a>x</a>'],
  ['sees through whitespace and entities in schemes', '<a href=" jav&#x09;ascript:alert(1)">x</a>', '<a>x</a>'],
  ['keeps images with http(s) sources', '<img src="https://cdn.example/a.png" alt="A" onerror="x()" width="40">', '<img src="https://cdn.example/a.png" alt="A" width="40">'],
  ['drops images with other sources', '<img src="data:image/png;base64,AAA">', ''],
  ['escapes stray angle brackets', '1 < 2 > 0', '1 &lt; 2 &gt; 0'],
  ['drops comments', 'a<!-- <script>x</script> -->b', 'ab'],
  ['closes what was left open', '<p><strong>bold', '<p><strong>bold</strong></p>'],
  ['ignores end tags that were never opened', '</p>text</em>', 'text'],
  ['handles upper-case tags', '<P><STRONG>x</STRONG></P>', '<p><strong>x</strong></p>'],
  ['keeps entities as text', 'Fish &amp; chips &eacute;', 'Fish &amp; chips &amp;eacute;'],
  ['re-escapes quotes in attributes', '<img src="https://x.example/a.png" alt="&quot;><script>">', '<img src="https://x.example/a.png" alt="&quot;&gt;&lt;script&gt;">'],
  ['does not let an unclosed script eat into markup', '<script>never closed <p>x</p>', ''],
  ['drops svg payloads', '<svg><script>x</script><a href="javascript:y">z</a></svg>after', 'after'],
  ['handles attributes without quotes', '<a href=https://shop.example>x</a>', '<a href="https://shop.example/" rel="noopener noreferrer">x</a>'],
  ['keeps links as the URL parser writes them', '<a href=" HTTP://Shop.Example/a/../b c?q#f ">x</a>', '<a href="http://shop.example/b%20c?q#f" rel="noopener noreferrer">x</a>'],
  ['drops a link whose host holds a space, keeping its text', '<a href="http://a b.example/">x</a>', '<a>x</a>'],
  ['drops a link with a newline inside', '<a href="https://shop.example/\nsale">x</a>', '<a>x</a>'],
  ['drops an image whose host holds a space', '<img src="https://cdn .example/a.png">', ''],
]

describe('sanitizeHtml', () => {
  it.each(cases)('%s', (_name, input, expected) => {
    expect(sanitizeHtml(input)).toBe(expected)
  })
})

const urls: Array<[string, string, string | undefined]> = [
  ['writes scheme and host in lower case and resolves dot segments', 'HTTP://Shop.Example:443/a/../b?x#frag', 'http://shop.example:443/b?x#frag'],
  ['drops spaces and controls at either end, as browsers do', ' \u0001https://shop.example/a\u0000 ', 'https://shop.example/a'],
  ['percent-encodes spaces in the path', 'https://shop.example/a b', 'https://shop.example/a%20b'],
  ['writes a host in punycode', 'https://bücher.example/', 'https://xn--bcher-kva.example/'],
  ['refuses a space in the host rather than joining its halves', 'http://a b.example/', undefined],
  ['refuses a tab inside, which the parser would delete', 'http://a\tb.example/', undefined],
  ['refuses a newline inside', 'https://shop.example/\r\nsale', undefined],
  ['refuses a scheme not allowed', 'javascript:alert(1)', undefined],
  ['refuses a relative address', '/sale', undefined],
]

describe('safeUrl', () => {
  it.each(urls)('%s', (_name, input, expected) => {
    const url = safeUrl(input, ['http:', 'https:'])
    expect(url).toBe(expected)
    if (url !== undefined) expect(new URL(url).href).toBe(url)
  })
})
