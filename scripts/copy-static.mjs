// Copies the files the Worker serves beside the built browser code into dist/assets:
// the SDK's _headers, and the console's stylesheet.
import { cpSync } from 'node:fs'

cpSync('sdk/static', 'dist/assets', { recursive: true })
cpSync('worker/console/static', 'dist/assets/console', { recursive: true })
