// Copies the files the Worker serves beside the built browser code into dist/assets:
// the SDK's _headers, the console's stylesheet, and the browser bundle of the console's API reference
// (Scalar's, served by the Worker rather than a CDN).
import { cpSync } from 'node:fs'

cpSync('sdk/static', 'dist/assets', { recursive: true })
cpSync('worker/console/static', 'dist/assets/console', { recursive: true })
cpSync('node_modules/@scalar/api-reference/dist/browser/standalone.js', 'dist/assets/console/scalar/standalone.js')
