/**
 * The console's reference of the admin API, /admin/api: Scalar's reference UI over the OpenAPI document.
 * Both come from the Worker: the document from worker/openapi (here under the console's session, as the API
 * serves it under the admin token), the UI's browser bundle from the static assets (scripts/copy-static.mjs),
 * so the page loads nothing from elsewhere and keeps the console's Content-Security-Policy.
 */
import { Hono } from 'hono'
import { openApiDocument } from '../openapi/document'
import { DOCTYPE } from './layout'
import { type ConsoleEnv } from './session'

/** Where scripts/copy-static.mjs puts Scalar's standalone bundle. */
export const SCALAR_BUNDLE = '/console/scalar/standalone.js'

/**
 * Scalar's settings: the document from the console, nothing fetched from Scalar's services (fonts,
 * telemetry, its request proxy, its AI agent) — the CSP would refuse them anyway.
 */
const SCALAR_CONFIGURATION = {
  url: '/admin/api/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  proxyUrl: '',
  showDeveloperTools: 'never',
  agent: { disabled: true },
  mcp: { disabled: true },
}

function ApiReferencePage() {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Admin API reference · Segue</title>
        <link rel="icon" href="data:," />
      </head>
      <body style="margin:0">
        <header style="display:flex;gap:16px;align-items:center;padding:8px 16px;background:#16181d;color:#fff;font:15px system-ui">
          <a href="/admin" style="color:#fff;font-weight:700;font-size:18px;text-decoration:none">Segue</a>
          <span>Admin API reference</span>
          <a href="/admin/api/openapi.json" style="color:#fff;margin-left:auto">openapi.json</a>
        </header>
        {/* Scalar mounts beside this element and reads its settings from it; a JSON script never runs. */}
        <script id="api-reference" type="application/json" data-configuration={JSON.stringify(SCALAR_CONFIGURATION)} />
        <script src={SCALAR_BUNDLE} defer />
      </body>
    </html>
  )
}

export const apiReferenceRoutes = new Hono<ConsoleEnv>()
  .get('/api', (c) => c.html(`${DOCTYPE}${<ApiReferencePage />}`))
  .get('/api/openapi.json', (c) => c.json(openApiDocument()))
