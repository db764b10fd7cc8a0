/**
 * The renderer in happy-dom: popups as labelled modal dialogs in a shadow root (focus, Escape, Tab, the
 * backdrop), one at a time; inline blocks, display triggers, bodies inserted only once sanitized, the
 * version's language and direction, and reset() for the console's live preview.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type ContentPayload } from '../../shared/content'
import { reset, show } from './render'

const popup = (over: Partial<ContentPayload> = {}): ContentPayload => ({
  id: 'rock',
  format: 'popup',
  position: 'center',
  title: 'Rock <b>album</b>',
  body: '<p>Loud <script>window.hacked=1</script><strong>guitars</strong></p><img src="x" onerror="window.hacked=2">',
  cta: { label: 'Listen', url: 'https://shop.example/rock' },
  display: { on: 'immediately' },
  backdropCloses: true,
  ...over,
})

const hosts = () => [...document.querySelectorAll<HTMLElement>('[data-segue]')]
const rootOf = (id: string) => document.querySelector<HTMLElement>(`[data-segue="${id}"]`)!.shadowRoot!

let reports: string[]
const report = (c: ContentPayload, action: string) => void reports.push(`${c.id}:${action}`)

beforeEach(() => {
  reports = []
  document.body.innerHTML = '<button id="before">page button</button><div id="slot"></div>'
})

afterEach(() => {
  // Close whatever a test left open, so the next starts with no popup on screen.
  for (const h of hosts()) h.shadowRoot?.querySelector<HTMLButtonElement>('.x')?.click()
  vi.useRealTimers()
})

describe('show', () => {
  it('renders a popup in a shadow root as a labelled modal dialog and reports it shown', () => {
    show(popup(), report)
    const root = rootOf('rock')
    const dialog = root.querySelector('[role="dialog"]')!
    expect(dialog.getAttribute('aria-modal')).toBe('true')
    expect(root.getElementById(dialog.getAttribute('aria-labelledby')!)!.textContent).toBe('Rock <b>album</b>')
    expect(reports).toEqual(['rock:shown'])
  })

  it('inserts text as text and the body only after sanitizing', () => {
    show(popup(), report)
    const root = rootOf('rock')
    expect(root.querySelector('h2')!.children).toHaveLength(0)
    expect(root.querySelector('script')).toBeNull()
    expect(root.querySelector('strong')!.textContent).toBe('guitars')
    expect(root.querySelector('img')).toBeNull()
    expect((window as unknown as { hacked?: number }).hacked).toBeUndefined()
  })

  it('moves focus to the close button, and back where it was on close', () => {
    const before = document.getElementById('before')!
    before.focus()
    show(popup(), report)
    expect(rootOf('rock').activeElement).toBe(rootOf('rock').querySelector('.x'))
    rootOf('rock').querySelector<HTMLButtonElement>('.x')!.click()
    expect(hosts()).toHaveLength(0)
    expect(document.activeElement).toBe(before)
    expect(reports).toEqual(['rock:shown', 'rock:closed'])
  })

  it('closes on Escape', () => {
    show(popup(), report)
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    expect(hosts()).toHaveLength(0)
    expect(reports).toEqual(['rock:shown', 'rock:closed'])
  })

  it('closes on a backdrop click only when the content allows it', () => {
    show(popup({ backdropCloses: false }), report)
    rootOf('rock').querySelector<HTMLElement>('.w')!.click()
    expect(hosts()).toHaveLength(1)
    rootOf('rock').querySelector<HTMLButtonElement>('.x')!.click()
    show(popup({ id: 'jazz' }), report)
    rootOf('jazz').querySelector<HTMLElement>('.w')!.click()
    expect(hosts()).toHaveLength(0)
  })

  it('keeps Tab inside the popup', () => {
    show(popup(), report)
    const root = rootOf('rock')
    const cta = root.querySelector<HTMLAnchorElement>('a.c')!
    cta.focus()
    const tab = new KeyboardEvent('keydown', { key: 'Tab', cancelable: true })
    document.dispatchEvent(tab)
    expect(tab.defaultPrevented).toBe(true)
    expect(root.activeElement).toBe(root.querySelector('.x'))
  })

  it('reports a click on the call to action', () => {
    show(popup(), report)
    const cta = rootOf('rock').querySelector<HTMLAnchorElement>('a.c')!
    cta.addEventListener('click', (e) => e.preventDefault())
    cta.click()
    expect(cta.href).toBe('https://shop.example/rock')
    expect(reports).toContain('rock:clicked')
  })

  it('shows one popup at a time, the next when the first closes', () => {
    show(popup(), report)
    show(popup({ id: 'jazz' }), report)
    expect(hosts().map((h) => h.dataset.segue)).toEqual(['rock'])
    rootOf('rock').querySelector<HTMLButtonElement>('.x')!.click()
    expect(hosts().map((h) => h.dataset.segue)).toEqual(['jazz'])
  })

  it('draws content that comes again while on screen once: a bar anew with what it says now, a popup left as it is', () => {
    show(popup({ id: 'hi', format: 'bar', position: 'top', title: 'Hello there' }), report)
    show(popup({ id: 'hi', format: 'bar', position: 'top', title: 'Hello Rita' }), report)
    expect(hosts().map((h) => h.shadowRoot!.querySelector('h2')!.textContent)).toEqual(['Hello Rita'])
    show(popup({ id: 'p1', title: 'First' }), report)
    show(popup({ id: 'p1', title: 'Again' }), report)
    expect(hosts().filter((h) => h.dataset.segue === 'p1').map((h) => h.shadowRoot!.querySelector('h2')!.textContent)).toEqual(['First'])
    rootOf('p1').querySelector<HTMLButtonElement>('.x')!.click()
    expect(hosts().filter((h) => h.dataset.segue === 'p1')).toEqual([])
  })

  it('places the nine positions with flexbox alignment, left and right as the owner sees them', () => {
    show(popup({ id: 's', format: 'slide-in', position: 'bottom-right' }), report)
    const wrap = rootOf('s').querySelector<HTMLElement>('.w')!
    expect([wrap.style.alignItems, wrap.style.justifyContent]).toEqual(['flex-end', 'right'])
    expect(rootOf('s').querySelector('[role="region"]')).not.toBeNull()
  })

  it('puts an inline block after the element its selector finds, and nothing when none matches', () => {
    show(popup({ id: 'i', format: 'inline', selector: '#slot', placement: 'after' }), report)
    expect(document.getElementById('slot')!.nextElementSibling!.getAttribute('data-segue')).toBe('i')
    show(popup({ id: 'gone', format: 'inline', selector: '#nowhere' }), report)
    show(popup({ id: 'bad', format: 'inline', selector: '##' }), report)
    expect(reports).toEqual(['i:shown'])
  })

  it('waits for its display trigger: a delay', () => {
    vi.useFakeTimers()
    show(popup({ display: { on: 'delay', ms: 2000 } }), report)
    expect(hosts()).toHaveLength(0)
    vi.advanceTimersByTime(2000)
    expect(hosts()).toHaveLength(1)
  })

  it('waits for its display trigger: exit intent', () => {
    show(popup({ display: { on: 'exit' } }), report)
    expect(hosts()).toHaveLength(0)
    document.dispatchEvent(new MouseEvent('mouseout', { clientY: 0, relatedTarget: null }))
    expect(hosts()).toHaveLength(1)
  })

  it('drops images and links that are not http(s)', () => {
    show(popup({ image: 'javascript:alert(1)', cta: { label: 'x', url: 'javascript:alert(1)' }, body: '<a href="javascript:alert(1)">bad</a>' }), report)
    const root = rootOf('rock')
    expect(root.querySelector('img')).toBeNull()
    expect(root.querySelector('a.c')).toBeNull()
    expect(root.querySelector('a')!.hasAttribute('href')).toBe(false)
  })

  it('lays out a right-to-left version right to left, in its language', () => {
    show(popup({ title: 'ألبوم الأسبوع', lang: 'ar', dir: 'rtl' }), report)
    const dialog = rootOf('rock').querySelector<HTMLElement>('[role="dialog"]')!
    expect([dialog.dir, dialog.lang]).toEqual(['rtl', 'ar'])
  })

  it('lays out a left-to-right version left to right, even on a right-to-left page, and leaves content without a language to the page', () => {
    document.documentElement.dir = 'rtl'
    try {
      show(popup({ id: 'en', lang: 'en' }), report)
      show(popup({ id: 'plain', format: 'slide-in' }), report)
      const en = rootOf('en').querySelector<HTMLElement>('[role="dialog"]')!
      expect([en.dir, en.lang]).toEqual(['ltr', 'en'])
      const plain = rootOf('plain').querySelector<HTMLElement>('[role="region"]')!
      expect([plain.hasAttribute('dir'), plain.hasAttribute('lang')]).toEqual([false, false])
    } finally {
      document.documentElement.removeAttribute('dir')
    }
  })
})

describe('reset', () => {
  it('takes away what is shown with its keyboard handling, and forgets waiting popups and pending triggers', () => {
    vi.useFakeTimers()
    show(popup(), report)
    show(popup({ id: 'jazz' }), report)
    show(popup({ id: 'late', display: { on: 'delay', ms: 1000 } }), report)
    reset()
    expect(hosts()).toHaveLength(0)
    vi.advanceTimersByTime(1000)
    expect(hosts()).toHaveLength(0)
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    expect(reports).toEqual(['rock:shown'])
    show(popup({ id: 'next' }), report)
    expect(hosts().map((h) => h.dataset.segue)).toEqual(['next'])
  })
})
