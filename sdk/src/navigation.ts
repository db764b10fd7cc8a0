/**
 * Calls `onChange` on every single-page-app navigation (pushState, replaceState, popstate) without
 * patching anything: the Navigation API where the browser has it, else popstate and a cheap check of the
 * address twice a second. The caller ignores repeats of the same URL.
 */
export function watchNavigation(onChange: () => void): void {
  const nav = (window as unknown as { navigation?: EventTarget }).navigation
  if (nav && nav.addEventListener) {
    // After the navigation commits, so the new title has a chance to be set.
    nav.addEventListener('currententrychange', () => setTimeout(onChange, 0))
    return
  }
  addEventListener('popstate', onChange)
  setInterval(onChange, 500)
}
