/**
 * Security headers on every console response: a Content-Security-Policy that runs only the console's own
 * script files, no framing (except the content preview, which the console frames itself), no referrer, no
 * MIME sniffing and no caching of pages that hold contacts' data.
 */
import { type Context, type MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'

/** The page the content editor shows in an iframe (see `content.tsx` and `client/preview.ts`). */
const PREVIEW_PATH = '/admin/preview'

const frameAncestors = (c: Context) => (c.req.path === PREVIEW_PATH ? "'self'" : "'none'")

const secure = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    // Page data travels in <script type="application/json">, which is never executed; nothing inline runs.
    scriptSrc: ["'self'"],
    // The pages use style attributes, and the SDK renderer in the preview adds a <style> to its shadow root.
    styleSrc: ["'self'", "'unsafe-inline'"],
    // Content may show images from anywhere (the SDK allows http and https); data: is the empty favicon.
    imgSrc: ["'self'", 'data:', 'https:', 'http:'],
    connectSrc: ["'self'"],
    frameSrc: ["'self'"],
    frameAncestors: [frameAncestors],
    formAction: ["'self'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  },
  referrerPolicy: 'no-referrer',
  // For browsers without frame-ancestors; SAMEORIGIN so the preview can still be framed by the console.
  xFrameOptions: 'SAMEORIGIN',
})

/**
 * Puts the console's security headers and `Cache-Control: no-store` on a response, whatever answered it
 * (a page, a redirect, a refusal, the not-found page).
 *
 * @example
 * consoleApp.use('*', consoleHeaders)
 */
export const consoleHeaders: MiddlewareHandler = async (c, next) => {
  await secure(c, next)
  c.res.headers.set('Cache-Control', 'no-store')
}
