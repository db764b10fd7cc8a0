/**
 * The SDK's sanitizer, the Worker's allow-list again in the browser (happy-dom): allowed tags kept, code
 * dropped with its content, links and images kept only with safe schemes.
 */
import { describe, expect, it } from 'vitest'
import { sanitize } from './sanitize'

const html = (input: string) => {
  const div = document.createElement('div')
  div.appendChild(sanitize(input))
  return div.innerHTML
}

describe('sanitize (in the browser)', () => {
  it.each([
    ['keeps the allow-list', '<p>a <strong>b</strong> <em>c</em><br></p><ul><li>d</li></ul><ol><li>e</li></ol>', '<p>a <strong>b</strong> <em>c</em><br></p><ul><li>d</li></ul><ol><li>e</li></ol>'],
    ['drops scripts, styles and svg with their content', '<script>x()</script><style>p{}</style><svg><a>y</a></svg><textarea>t</textarea>ok', 'ok'],
    ['keeps text of other tags', '<div><span>hi</span></div>', 'hi'],
    ['keeps links with safe schemes, without other attributes', '<a href="https://a.example/" onclick="x()" class="c">a</a>', '<a href="https://a.example/" rel="noopener noreferrer">a</a>'],
    ['keeps a link with a bad scheme as text with no href', '<a href="javascript:alert(1)">bad</a>', '<a rel="noopener noreferrer">bad</a>'],
    ['keeps images with http(s) sources', '<img src="https://a.example/i.png" alt="A" onerror="x()">', '<img src="https://a.example/i.png" alt="A">'],
    ['drops images with other sources', '<img src="data:image/png;base64,AA">', ''],
  ])('%s', (_name, input, expected) => {
    expect(html(input)).toBe(expected)
  })
})
