/**
 * Site configs at the edge. KV holds each site's compiled config under its public key; each isolate
 * keeps the compiled form in memory and re-reads KV in the background every few seconds, so a visit
 * normally waits for no config read at all. Admin changes rebuild the config from D1 and publish it.
 */
import { allContent } from '../data/content'
import { allSegments } from '../data/segments'
import { getSite, getSiteByKey } from '../data/sites'
import { allWorkflows } from '../data/workflows'
import { dynamicOrder } from '../segments/graph'
import { type CompiledSite, type SiteConfig, compileSite } from './compile'

/** How long an isolate trusts its copy before checking KV for a newer one. */
export const CONFIG_RECHECK_MS = 5_000

const configKey = (siteKey: string) => `site:${siteKey}`

interface Cached {
  compiled: CompiledSite | null
  checkedAt: number
  refreshing?: Promise<void>
}

const isolateCache = new Map<string, Cached>()
/** Site keys an isolate remembers (unknown ones included); past this, the oldest is forgotten. */
const MAX_CACHED_SITES = 1_000

function remember(key: string, entry: Cached): void {
  isolateCache.delete(key)
  isolateCache.set(key, entry)
  if (isolateCache.size > MAX_CACHED_SITES) isolateCache.delete(isolateCache.keys().next().value!)
}

/** Whether this isolate knows what the key is (a site, or no site) without reading KV or D1. */
export function siteKeyCached(key: string): boolean {
  return isolateCache.has(key)
}

/** Builds a site's config from D1; undefined when the site does not exist. */
export async function buildSiteConfig(db: D1Database, siteId: string, now = Date.now()): Promise<SiteConfig | undefined> {
  const site = await getSite(db, siteId)
  if (!site) return undefined
  const [segments, workflows, content] = await Promise.all([allSegments(db, siteId), allWorkflows(db, siteId), allContent(db, siteId)])
  const ordered = [...segments.filter((s) => s.type === 'static'), ...dynamicOrder(segments)]
  return {
    version: now,
    site: {
      id: site.id,
      key: site.key,
      allowedOrigins: site.allowedOrigins,
      browserFields: site.browserFields,
      fields: site.fields,
      identitySecret: site.identitySecret,
      trustUnsignedIdentify: site.trustUnsignedIdentify,
      limits: site.limits,
    },
    segments: ordered.map((s) => ({ id: s.id, type: s.type, conditions: s.conditions })),
    workflows: workflows.filter((w) => w.status === 'active').map((w) => ({ id: w.id, graph: w.graph })),
    content: Object.fromEntries(content.map((c) => [c.id, { id: c.id, ...c.spec }])),
  }
}

/**
 * Rebuilds a site's config from D1 and publishes it to KV (and to this isolate at once). `previousKey`
 * drops the entry of a key the site no longer uses.
 */
export async function publishSiteConfig(env: Env, siteId: string, previousKey?: string): Promise<CompiledSite | undefined> {
  const config = await buildSiteConfig(env.DB, siteId)
  if (previousKey && previousKey !== config?.site.key) {
    await env.KV.delete(configKey(previousKey))
    isolateCache.delete(previousKey)
  }
  return config && publishConfig(env, config)
}

/** Publishes a config already built from D1, to KV and to this isolate. */
export async function publishConfig(env: Env, config: SiteConfig): Promise<CompiledSite> {
  await env.KV.put(configKey(config.site.key), JSON.stringify(config))
  const compiled = compileSite(config)
  remember(config.site.key, { compiled, checkedAt: Date.now() })
  return compiled
}

/**
 * The compiled config of the site with this public key, or undefined when there is none. Waits only
 * when this isolate has never seen the key; a copy older than CONFIG_RECHECK_MS is still used while a
 * background read (through `waitUntil`) brings a newer one.
 */
export async function siteByKey(env: Env, key: string, waitUntil: (p: Promise<unknown>) => void): Promise<CompiledSite | undefined> {
  const cached = isolateCache.get(key)
  const now = Date.now()
  if (cached) {
    if (now - cached.checkedAt >= CONFIG_RECHECK_MS && !cached.refreshing) {
      cached.refreshing = refresh(env, key, cached).finally(() => (cached.refreshing = undefined))
      waitUntil(cached.refreshing)
    }
    return cached.compiled ?? undefined
  }
  const entry: Cached = { compiled: null, checkedAt: now }
  await refresh(env, key, entry)
  remember(key, entry)
  return entry.compiled ?? undefined
}

async function refresh(env: Env, key: string, entry: Cached): Promise<void> {
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

/** Forgets every cached config (tests, and the scheduled refresh). */
export function clearConfigCache(): void {
  isolateCache.clear()
}
