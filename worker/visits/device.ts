/**
 * The visitor's device class — desktop, mobile or tablet — worked out at the edge from the request's
 * headers alone.
 *
 * User-Agent Client Hints come first, where the browser sends them (Chromium-based browsers do;
 * Safari and Firefox do not):
 * - `Sec-CH-UA-Form-Factors` names the device outright. It is a high-entropy hint, sent only to an
 *   origin that asks for it and that the page delegates it to, so most requests lack it.
 * - `Sec-CH-UA-Mobile: ?1` is a phone.
 * - `Sec-CH-UA-Mobile: ?0` on `Sec-CH-UA-Platform` "Android" or "iOS" is a tablet. Chrome on a large
 *   Android tablet asks for desktop sites by default, so its User-Agent reads as desktop Linux; the
 *   platform hint still says Android. (So does a phone set to request desktop sites: without
 *   Form-Factors it counts as a tablet.)
 *
 * Otherwise the User-Agent string decides. iPads, Kindles (Fire tablets' Silk browser and the
 * e-readers) and anything calling itself a Tablet are tablets; iPhone, iPod, Windows Phone, Opera
 * Mini, BlackBerry and every "Mobi" token (Android phones, Mobile Safari, IEMobile, Firefox for
 * Android) are phones; Android without "Mobile" is a tablet, as Android's browsers mark phones that
 * way; everything else, a missing User-Agent included, is a desktop. Known limits:
 * - Safari on iPadOS 13+ sends the Mac's User-Agent and no hints, so an iPad in its default desktop
 *   mode counts as a desktop. Only the page can tell (`navigator.maxTouchPoints > 1`).
 * - Windows and ChromeOS touch tablets and convertibles count as desktops: they get desktop sites.
 * - Phone and tablet share one User-Agent in some browsers on some models (Lenovo tablets on
 *   Samsung Internet say "Mobile"); no rule short of a model database splits them.
 * - TVs and smart displays have no class of their own and land where their User-Agent puts them
 *   (an Android TV box or Fire TV reads as a tablet).
 *
 * Why no parser library (npm, measured November 2026; sizes are esbuild --minify bundles of the one
 * call that yields a device type, then gzip -9):
 * - ua-parser-js 2.0.10 is AGPL-3.0-or-later, unusable in an MIT project; its MIT 1.x line
 *   (1.0.41, August 2025) bundles to 20.5 KB, 9.0 KB gzip.
 * - bowser 2.15.1 (MIT, November 2026) bundles to 35.3 KB, 7.7 KB gzip; it takes client hints only
 *   to name the browser, not the device.
 * - my-ua-parser 2.0.4 (MIT fork of ua-parser-js 1.x, December 2024): 17.9 KB, 7.8 KB gzip.
 * - detect-browser 5.3.0 (MIT, December 2024): 4.2 KB, 1.8 KB gzip, but names browser and OS only.
 * - is-mobile 5.0.0 (MIT, July 2025): 1.5 KB, 0.9 KB gzip, but answers one yes/no that cannot
 *   split phones from tablets.
 * None reads the hint headers. The rules below bundle to 0.7 KB, 0.5 KB gzip, give the three
 * classes and nothing else, and are pinned by real User-Agents in device.test.ts.
 */

export type Device = 'desktop' | 'mobile' | 'tablet'

/** What `deviceOf` reads from a request: a `Headers` object fits. */
export interface HeaderSource {
  get(name: string): string | null
}

// Sec-CH-UA-Form-Factors may list several values; a convertible that also says Desktop gets desktop
// sites, so Desktop wins over Tablet, and Tablet over Mobile (a foldable may say both).
const FORM_FACTOR_PRECEDENCE: readonly Device[] = ['desktop', 'tablet', 'mobile']
const TOUCH_PLATFORMS = new Set(['android', 'ios'])

// Checked first: old-style iPad and Kindle Fire User-Agents also carry "Mobile". "Tablet PC" is
// Internet Explorer on a Windows touch device, a desktop.
const TABLET_UA = /iPad|Kindle|Silk|PlayBook|\bTablet\b(?! PC)/
const MOBILE_UA = /Mobi|iPhone|iPod|Windows Phone|Opera Mini|BlackBerry|BB10/

/**
 * The device class of the visitor who sent these headers.
 *
 * @example
 * deviceOf(new Headers({ 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) …' })) // 'mobile'
 * deviceOf(new Headers({ 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"Android"' })) // 'tablet'
 */
export function deviceOf(headers: HeaderSource): Device {
  return deviceFromHints(headers) ?? deviceFromUserAgent(headers.get('user-agent') ?? '')
}

function deviceFromHints(headers: HeaderSource): Device | undefined {
  const formFactors = structuredStrings(headers.get('sec-ch-ua-form-factors'))
  const named = FORM_FACTOR_PRECEDENCE.find((device) => formFactors.includes(device))
  if (named) return named
  const mobile = headers.get('sec-ch-ua-mobile')?.trim()
  if (mobile === '?1') return 'mobile'
  const platform = structuredStrings(headers.get('sec-ch-ua-platform'))[0]
  if (mobile === '?0' && platform !== undefined && TOUCH_PLATFORMS.has(platform)) return 'tablet'
  return undefined
}

function deviceFromUserAgent(userAgent: string): Device {
  if (TABLET_UA.test(userAgent)) return 'tablet'
  if (MOBILE_UA.test(userAgent)) return 'mobile'
  if (userAgent.includes('Android')) return 'tablet'
  return 'desktop'
}

/** The strings of a structured-field header (RFC 8941) such as `"Desktop", "XR"`, lower-cased. */
function structuredStrings(value: string | null): string[] {
  if (!value) return []
  return value
    .split(',')
    .map((item) => item.trim().replace(/^"(.*)"$/, '$1').toLowerCase())
    .filter((item) => item !== '')
}
