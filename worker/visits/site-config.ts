/**
 * The site config a visit is decided with. KV holds each site's compiled config under its public key;
 * each isolate keeps the compiled form in memory and re-reads KV in the background every few seconds,
 * so a visit normally waits for no config read at all.
 */
import { getSiteByKey } from '../data/sites'
import { type CompiledSite, type SiteConfig, compileSite } from './compile'
import { configKey, publishSiteConfig } from '../background/publish'
import { type CachedSite, cachedSite, rememberSite } from './site-cache'

/** How long an isolate trusts its copy before checking KV for a newer one. */
export const CONFIG_RECHECK_MS = 5_000

/** Whether this isolate knows what the key is (a site, or no site) without reading KV or D1. */
export const siteKeyCached = (key: string): boolean => cachedSite(key) !== undefined

/**
 * The compiled config of the site with this public key, or undefined when there is none. Waits only
 * when this isolate has never seen the key; a copy older than CONFIG_RECHECK_MS is still used while a
 * background read (through `waitUntil`) brings a newer one.
 */
export async function siteByKey(env: Env, key: string, waitUntil: (p: Promise<unknown>) => void): Promise<CompiledSite | undefined> {
  const cached = cachedSite(key)
  const now = Date.now()
  if (cached) {
    if (now - cached.checkedAt >= CONFIG_RECHECK_MS && !cached.refreshing) {
      cached.refreshing = refresh(env, key, cached).finally(() => (cached.refreshing = undefined))
      waitUntil(cached.refreshing)
    }
    return cached.compiled ?? undefined
  }
  const entry: CachedSite = { compiled: null, checkedAt: now }
  await refresh(env, key, entry)
  rememberSite(key, entry)
  return entry.compiled ?? undefined
}

async function refresh(env: Env, key: string, entry: CachedSite): Promise<void> {
  const config = await env.KV.get<SiteConfig>(configKey(key), 'json')
  entry.checkedAt = Date.now()
  if (config) {
    if (entry.compiled?.config.version !== config.version) entry.compiled = compileSite(config)
    return
  }
  // Not published yet (a new deployment, or a key KV has not seen): build it once from D1.
  const site = await getSiteByKey(env.DB, key)
  entry.compiled = (site && (await publishSiteConfig(env, site.id))) || null
}
