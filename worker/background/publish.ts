/**
 * Publishing a site's config: built from D1 (the source of truth), compiled, written to KV under the
 * site's public key for every isolate to read, and put in this isolate's memory at once.
 */
import { allContent } from '../data/content'
import { allSegments } from '../data/segments'
import { getSite } from '../data/sites'
import { allWorkflows } from '../data/workflows'
import { dynamicOrder } from '../segments/graph'
import { type CompiledSite, type SiteConfig, compileSite } from '../visits/compile'
import { forgetSite, rememberSite } from '../visits/site-cache'

/** Where KV keeps a site's config. */
export const configKey = (siteKey: string) => `site:${siteKey}`

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
      retention: site.retention,
      shards: site.shards,
      timeZone: site.timeZone,
      ...(site.fatigue.perSession !== null || site.fatigue.perDay !== null
        ? { fatigue: { ...(site.fatigue.perSession !== null ? { perSession: site.fatigue.perSession } : {}), ...(site.fatigue.perDay !== null ? { perDay: site.fatigue.perDay } : {}) } }
        : {}),
      ...(site.movingTo ? { movingTo: site.movingTo } : {}),
      ...(site.conversion.type === 'custom' ? { conversion: site.conversion } : {}),
      attributionDays: site.attributionDays,
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
    forgetSite(previousKey)
  }
  return config && publishConfig(env, config)
}

/** Publishes a config already built from D1, to KV and to this isolate. */
export async function publishConfig(env: Env, config: SiteConfig): Promise<CompiledSite> {
  await env.KV.put(configKey(config.site.key), JSON.stringify(config))
  const compiled = compileSite(config)
  rememberSite(config.site.key, { compiled, checkedAt: Date.now() })
  return compiled
}
