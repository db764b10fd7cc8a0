/**
 * Host pages that make life hard for a third-party script: they replace globals before Segue loads.
 */
const OVERRIDES: Record<string, string> = {
  // Old libraries added toJSON to Array.prototype; some pages replace JSON.stringify outright.
  json: `JSON.stringify = function () { return 'broken' }; Array.prototype.toJSON = function () { return 'nope' };`,
  // A page whose fetch wrapper throws.
  fetch: `window.fetch = function () { throw new Error('this page broke fetch') };`,
}

export function hostilePage(kind: string, worker: string, siteKey: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hostile page</title>
<script>${OVERRIDES[kind] ?? ''}</script>
<script async src="${worker}/sdk.js" data-site="${siteKey}"></script></head>
<body><h1>A page with its own ideas</h1><button id="own">The page's own button</button>
<script>document.getElementById('own').addEventListener('click', function () { document.body.setAttribute('data-clicked', 'yes') })</script>
</body></html>`
}

/**
 * A plain store page for a site the SDK's tests make for themselves: links that route by hash, a
 * newsletter button, and the script tag (with data-hash-routes when asked for), after a modulepreload
 * hint for the renderer when one is named.
 */
export function storePage(worker: string, siteKey: string, opts: { hashRoutes: boolean; preload?: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Plain store</title>
${opts.preload ? `<link rel="modulepreload" href="${worker}/${opts.preload.replace(/[^\w.-]/g, '')}">` : ''}
<script>window.segue=window.segue||function(){(segue.q=segue.q||[]).push(arguments)}</script>
<script async src="${worker}/sdk.js" data-site="${siteKey.replace(/[^\w-]/g, '')}"${opts.hashRoutes ? ' data-hash-routes' : ''}></script></head>
<body><h1>Plain store</h1><nav><a href="#/albums">Albums</a> <a href="#/albums/blue-hours">Blue Hours</a></nav>
<button id="newsletter" type="button">Get the newsletter</button></body></html>`
}
