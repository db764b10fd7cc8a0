/**
 * Display triggers in happy-dom, through the renderer: content waits for a click on the element its
 * selector finds, or for the visitor to be idle; an invalid selector never throws into the page.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type ContentPayload, type Display } from '../../shared/content'
import { reset, show } from './render'

const slideIn = (display: Display): ContentPayload => ({ id: 'offer', format: 'slide-in', title: 'Free shipping', display })
const shown = () => document.querySelectorAll('[data-segue="offer"]').length
let reports: string[]

beforeEach(() => {
  reset()
  reports = []
  document.body.innerHTML = '<button id="subscribe"><span>Subscribe</span></button><a id="other" href="#">Other</a>'
})

afterEach(() => {
  vi.useRealTimers()
})

describe('on click', () => {
  it('shows the content when the visitor clicks the element the selector finds, inside it too, and only once', () => {
    show(slideIn({ on: 'click', selector: '#subscribe' }), (c, action) => reports.push(action))
    document.getElementById('other')!.click()
    expect(shown()).toBe(0)
    document.querySelector<HTMLElement>('#subscribe span')!.click()
    expect(shown()).toBe(1)
    expect(reports).toEqual(['shown'])
    document.getElementById('subscribe')!.click()
    expect(shown()).toBe(1)
  })

  it('counts elements the page adds later, and clicks the page stops from propagating', () => {
    show(slideIn({ on: 'click', selector: '.late' }), () => undefined)
    const late = document.createElement('button')
    late.className = 'late'
    late.addEventListener('click', (e) => e.stopPropagation())
    document.body.appendChild(late)
    late.click()
    expect(shown()).toBe(1)
  })

  it('never throws into the page for an invalid selector, and shows nothing', () => {
    const errors: unknown[] = []
    window.addEventListener('error', (e) => errors.push(e.error))
    show(slideIn({ on: 'click', selector: '##not a selector' }), () => undefined)
    let clicked = false
    document.getElementById('subscribe')!.addEventListener('click', () => (clicked = true))
    expect(() => document.getElementById('subscribe')!.click()).not.toThrow()
    expect(clicked).toBe(true)
    expect(shown()).toBe(0)
    expect(errors).toEqual([])
  })
})

describe('on idle', () => {
  it('shows the content after the given seconds without the visitor moving, typing, scrolling or touching', () => {
    vi.useFakeTimers()
    show(slideIn({ on: 'idle', seconds: 20 }), () => undefined)
    vi.advanceTimersByTime(15_000)
    window.dispatchEvent(new MouseEvent('mousemove'))
    vi.advanceTimersByTime(15_000)
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'a', bubbles: true }))
    vi.advanceTimersByTime(15_000)
    window.dispatchEvent(new Event('scroll'))
    vi.advanceTimersByTime(15_000)
    document.body.dispatchEvent(new Event('touchstart', { bubbles: true }))
    vi.advanceTimersByTime(19_999)
    expect(shown()).toBe(0)
    vi.advanceTimersByTime(1)
    expect(shown()).toBe(1)
  })

  it('shows it once, however idle the visitor stays', () => {
    vi.useFakeTimers()
    show(slideIn({ on: 'idle', seconds: 5 }), () => undefined)
    vi.advanceTimersByTime(5_000)
    document.querySelector('[data-segue]')!.shadowRoot!.querySelector<HTMLButtonElement>('.x')!.click()
    window.dispatchEvent(new MouseEvent('mousemove'))
    vi.advanceTimersByTime(60_000)
    expect(shown()).toBe(0)
  })
})
