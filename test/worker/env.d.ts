/**
 * The binding the worker project adds for its tests, typed: the D1 migrations vitest.config.ts reads and
 * setup.ts applies.
 */
import { type D1Migration } from 'cloudflare:test'

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[]
    }
  }
}
