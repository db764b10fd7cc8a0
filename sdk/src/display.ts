/**
 * Display triggers: when content the browser already has appears. At once, after a delay, at a scroll
 * depth, on exit intent, on a click of an element a CSS selector finds, or after some seconds in which
 * the visitor neither moves, types, scrolls nor touches. Each fires once.
 */
import { type Display } from '../../shared/content'

const doc = document
/** What counts as the visitor being there, for `idle`. */
const ACTIVITY = ['mousemove', 'keydown', 'scroll', 'touchstart']

export function when(d: Display, go: () => void): void {
  if (d.on == 'delay') setTimeout(go, d.ms)
  else if (d.on == 'scroll') {
    const check = () => {
      const h = doc.documentElement.scrollHeight - innerHeight
      if (h <= 0 || (scrollY / h) * 100 >= d.percent) {
        removeEventListener('scroll', check)
        go()
      }
    }
    addEventListener('scroll', check, { passive: true })
    check()
  } else if (d.on == 'exit') {
    const leave = (e: MouseEvent) => {
      if (!e.relatedTarget && e.clientY <= 0) {
        doc.removeEventListener('mouseout', leave)
        go()
      }
    }
    doc.addEventListener('mouseout', leave)
  } else if (d.on == 'click') {
    // Delegated, and in the capture phase, so elements added later count and a page that stops the
    // click's propagation does not hide it.
    const click = (e: Event) => {
      try {
        if (!(e.target as Element).closest(d.selector)) return
      } catch {
        // an invalid selector matches nothing, and never throws into the page
        return
      }
      doc.removeEventListener('click', click, true)
      go()
    }
    doc.addEventListener('click', click, true)
  } else if (d.on == 'idle') {
    let timer: ReturnType<typeof setTimeout>
    const fire = () => {
      for (const type of ACTIVITY) removeEventListener(type, wake, true)
      go()
    }
    const wake = () => {
      clearTimeout(timer)
      timer = setTimeout(fire, d.seconds * 1000)
    }
    for (const type of ACTIVITY) addEventListener(type, wake, { capture: true, passive: true })
    wake()
  } else go()
}
