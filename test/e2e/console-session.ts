/**
 * What the browser tests of the console share: Chromium's launch flags for this machine, and signing a page
 * in with the admin token as a person would.
 */
import { type Page } from 'playwright-core'

export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']

/** Signs `page` in to the console at `worker` with `token`, and waits until it has left the sign-in page (for a site, or the list of sites). */
export async function signIn(page: Page, worker: string, token: string): Promise<void> {
  await page.goto(`${worker}/admin/sign-in`)
  await page.fill('#token', token)
  await page.press('#token', 'Enter')
  await page.waitForURL((url) => url.pathname.startsWith('/admin') && !url.pathname.startsWith('/admin/sign-in'))
}
