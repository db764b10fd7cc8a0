/**
 * How an admin change reaches the edge. Services record what they changed — a site's config, some
 * contacts' snapshots — in a `Changes`, right after writing D1; `propagate` then publishes the configs and
 * queues the snapshot rebuilds (20 contacts a message, so one invocation can rebuild many). The admin API and the console run every request
 * through `propagateChanges()`, and the cron through `propagate`, so no handler refreshes anything by hand
 * and a new route cannot forget to. (An erasure and a merge also mark KV themselves, at once: see
 * contacts/service.ts.)
 */
import { type MiddlewareHandler } from 'hono'
import { type SiteConfig } from '../visits/compile'
import { publishConfig, publishSiteConfig } from './publish'
import { queueSnapshotRefresh } from './refresh'

export class Changes {
  /** Sites whose config changed: the key they had before (to drop its KV entry), and a config already built. */
  readonly configs = new Map<string, { previousKey?: string; built?: SiteConfig }>()
  /** Contacts whose snapshot must be rebuilt from D1, by site. */
  readonly snapshots = new Map<string, Set<string>>()

  /** The site's config changed (segments, content, workflows, the site itself). */
  siteConfig(site: { id: string; key?: string }, built?: SiteConfig): void {
    const known = this.configs.get(site.id)
    this.configs.set(site.id, { previousKey: known?.previousKey ?? site.key, built })
  }

  /** These contacts changed in D1 in a way their edge snapshots must show. */
  contacts(siteId: string, ids: Iterable<string>): void {
    const set = this.snapshots.get(siteId) ?? new Set<string>()
    for (const id of ids) set.add(id)
    this.snapshots.set(siteId, set)
  }
}

/** Publishes the changed configs (to KV and this isolate) and queues the snapshot rebuilds. */
export async function propagate(env: Env, changes: Changes): Promise<void> {
  for (const [siteId, { previousKey, built }] of changes.configs) {
    if (built) await publishConfig(env, built)
    else await publishSiteConfig(env, siteId, previousKey)
  }
  for (const [siteId, ids] of changes.snapshots) await queueSnapshotRefresh(env, siteId, [...ids])
}

/**
 * Gives each request a `changes` the services record into, and propagates them once it is answered —
 * whatever the answer, since a service records a change only once D1 has it.
 */
export function propagateChanges<E extends { Bindings: Env; Variables: { changes: Changes } }>(): MiddlewareHandler<E> {
  return async (c, next) => {
    const changes = new Changes()
    c.set('changes', changes)
    try {
      await next()
    } finally {
      await propagate(c.env, changes)
    }
  }
}
