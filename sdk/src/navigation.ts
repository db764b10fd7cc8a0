/**
 * Calls `onChange` on every single-page-app navigation (pushState, replaceState, popstate) without
 * patching anything: the Navigation API where the browser has it, else popstate and a cheap check of the
 * address twice a second. The caller ignores repeats of the same URL.
 */
export function watchNavigation(onChange: (url?: string) => void): void {
  const nav = (window as unknown as { navigation?: EventTarget }).navigation
  if (nav && nav.addEventListener) {
    nav.addEventListener('currententrychange', () => {
      // The address now, and the page a moment later, so the new title has a chance to be set:
      // reading the address later would miss a page left again within that moment.
      const url = location.href
      setTimeout(() => onChange(url), 0)
    })
    return
  }
  addEventListener('popstate', () => onChange())
  setInterval(onChange, 500)
}
