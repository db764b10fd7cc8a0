/**
 * The work behind sites, shared with the console: creating and updating them (keys unique, a field's type
 * fixed once set, a field in use kept, no retention shorter than a segment reads back), rotating the
 * identity secret, and a site as the API shows it.
 */
import { type z } from 'zod'
import { FieldCatalog, SYSTEM_FIELDS, isSystemField } from '../conditions/fields'
import { beyondRetention, reachDays } from '../conditions/reach'
import { fieldRefs } from '../conditions/types'
import { allSegments } from '../data/segments'
import { DEFAULT_LIMITS, DEFAULT_RETENTION, type Site, getSite, placements, saveSite, siteKeyTaken, siteOnShard } from '../data/sites'
import { database, emptiestShards, shardNames } from '../data/shards'
import { refuse } from '../http/errors'
import { type Changes } from '../background/changes'
import { newIdentitySecret } from '../visits/identity'
import { newId } from '../lib/ids'
import { type siteCreate, type sitePatch } from './schema'

/**
 * A site's identity secret as the admin API shows it: when it was made and how it ends. The secret itself
 * (`value`) only in the answer that made it, when a site is created or its secret rotated.
 */
export function identitySecretJson(s: Site, reveal = false) {
  return {
    ...(reveal ? { value: s.identitySecret } : {}),
    createdAt: new Date(s.identitySecretCreatedAt).toISOString(),
    endsWith: s.identitySecret.slice(-4),
  }
}

/** A site as the admin API shows it. */
export function siteJson(s: Site, opts: { revealSecret?: boolean } = {}) {
  return {
    id: s.id,
    key: s.key,
    name: s.name,
    allowedOrigins: s.allowedOrigins,
    fields: s.fields,
    browserFields: s.browserFields,
    identitySecret: identitySecretJson(s, opts.revealSecret),
    trustUnsignedIdentify: s.trustUnsignedIdentify,
    limits: s.limits,
    retention: s.retention,
    timeZone: s.timeZone,
    fatigue: s.fatigue,
    attributionDays: s.attributionDays,
    conversion: s.conversion,
    shards: s.shards,
    ...(s.movingTo ? { movingTo: s.movingTo } : {}),
    createdAt: new Date(s.createdAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
  }
}

/**
 * Creates a site on the emptiest data shard (or `input.shards` of them), marked as living there in each.
 */
export async function createSite(env: Env, input: z.output<typeof siteCreate>, changes: Changes, now = Date.now()): Promise<Site> {
  const db = env.DB
  const available = shardNames(env).length || 1
  if (input.shards > available) {
    throw refuse('invalid', 'invalid_request', `shards: this deployment has ${available} data shard${available === 1 ? '' : 's'}`, {
      field: 'shards',
      issues: [{ path: 'shards', message: `must be at most ${available}` }],
    })
  }
  const site: Site = {
    id: input.id ?? newId('site', 12),
    key: input.key ?? newId('pk', 20),
    name: input.name,
    allowedOrigins: input.allowedOrigins,
    fields: input.fields,
    browserFields: input.browserFields,
    identitySecret: newIdentitySecret(),
    identitySecretCreatedAt: now,
    trustUnsignedIdentify: input.trustUnsignedIdentify,
    limits: { ...DEFAULT_LIMITS, ...input.limits },
    retention: { ...DEFAULT_RETENTION, ...input.retention },
    shards: [],
    movingTo: null,
    timeZone: input.timeZone,
    fatigue: { perSession: input.fatigue?.perSession ?? null, perDay: input.fatigue?.perDay ?? null },
    attributionDays: input.attributionDays,
    conversion: input.conversion,
    createdAt: now,
    updatedAt: now,
  }
  if (await getSite(db, site.id)) throw refuse('conflict', 'site_exists', `A site with id "${site.id}" already exists`, { field: 'id' })
  if (await siteKeyTaken(db, site.key, site.id)) throw refuse('conflict', 'site_key_taken', 'Another site already uses this key', { field: 'key' })
  checkBrowserFields(site)
  site.shards = await emptiestShards(env, (await placements(db)).map((p) => p.shards), input.shards)
  await Promise.all(site.shards.map((name) => siteOnShard(database(env, name), site.id, now).run()))
  await saveSite(db, site).run()
  changes.siteConfig(site)
  return site
}

export async function updateSite(db: D1Database, site: Site, patch: z.output<typeof sitePatch>, changes: Changes, now = Date.now()): Promise<Site> {
  const next: Site = {
    ...site,
    key: patch.key ?? site.key,
    name: patch.name ?? site.name,
    allowedOrigins: patch.allowedOrigins ?? site.allowedOrigins,
    fields: patch.fields ?? site.fields,
    browserFields: patch.browserFields ?? site.browserFields,
    trustUnsignedIdentify: patch.trustUnsignedIdentify ?? site.trustUnsignedIdentify,
    limits: { ...site.limits, ...patch.limits },
    retention: { ...site.retention, ...patch.retention },
    timeZone: patch.timeZone ?? site.timeZone,
    fatigue: { ...site.fatigue, ...patch.fatigue },
    attributionDays: patch.attributionDays ?? site.attributionDays,
    conversion: patch.conversion ?? site.conversion,
    updatedAt: now,
  }
  if (next.key !== site.key && (await siteKeyTaken(db, next.key, site.id))) {
    throw refuse('conflict', 'site_key_taken', 'Another site already uses this key', { field: 'key' })
  }
  if (patch.fields) await checkFieldChanges(db, site, patch.fields)
  if (next.retention.activityDays < site.retention.activityDays) await checkActivityRetention(db, site, next.retention.activityDays, now)
  checkBrowserFields(next)
  await saveSite(db, next).run()
  changes.siteConfig(site)
  return next
}

/**
 * Replaces a site's identity secret: signatures made with the old one stop being accepted at once (their
 * identifies become unverified claims), so the site's servers need the new one first.
 */
export async function rotateIdentitySecret(db: D1Database, site: Site, changes: Changes, now = Date.now()): Promise<Site> {
  const next: Site = { ...site, identitySecret: newIdentitySecret(), identitySecretCreatedAt: now, updatedAt: now }
  await saveSite(db, next).run()
  changes.siteConfig(site)
  return next
}

/** A field's type cannot change under stored values, and a field a segment reads cannot go. */
async function checkFieldChanges(db: D1Database, site: Site, fields: Site['fields']): Promise<void> {
  const next = new Map(fields.map((f) => [f.key, f]))
  for (const old of site.fields) {
    const now = next.get(old.key)
    if (now && now.type !== old.type) {
      throw refuse('conflict', 'field_type_locked', `Field "${old.key}" holds ${old.type} values; its type cannot change. Add a field with a new key instead.`, { field: 'fields' })
    }
  }
  const removed = site.fields.filter((f) => !next.has(f.key)).map((f) => f.key)
  if (removed.length === 0) return
  for (const s of await allSegments(db, site.id)) {
    const used = s.conditions ? [...fieldRefs(s.conditions)].find((k) => removed.includes(k)) : undefined
    if (used) throw refuse('conflict', 'field_in_use', `Segment "${s.name}" uses field "${used}" in its conditions; change it before removing the field`, { field: 'fields' })
  }
}

/** Activities cannot be kept for less time than a dynamic segment reads back: it would be wrong once they go. */
async function checkActivityRetention(db: D1Database, site: Site, days: number, now: number): Promise<void> {
  const users = (await allSegments(db, site.id)).flatMap((s) => {
    const [beyond] = s.conditions ? beyondRetention(s.conditions, days, now) : []
    return beyond ? [{ segment: s, beyond }] : []
  })
  if (users.length === 0) return
  const [{ segment, beyond }] = users
  const others = users.length > 1 ? ` (and ${users.length - 1} other segment${users.length > 2 ? 's' : ''})` : ''
  throw refuse(
    'conflict',
    'retention_in_use',
    `Segment "${segment.name}"${others} reads activities ${reachDays(beyond)} days back (${beyond.path}, ${beyond.what}); keep activities at least that long, or change the segment first`,
    { field: 'retention.activityDays', extra: { usedBy: users.map((u) => ({ id: u.segment.id, name: u.segment.name })) } },
  )
}

const browserField = (message: string) => refuse('invalid', 'invalid_request', `browserFields: ${message}`, { field: 'browserFields', issues: [{ path: 'browserFields', message }] })

function checkBrowserFields(site: Site): void {
  const catalog = new FieldCatalog(site.fields)
  for (const key of site.browserFields) {
    if (!catalog.get(key)) throw browserField(`"${key}" is not a system field or one of the site's fields`)
    if (isSystemField(key) && 'readOnly' in SYSTEM_FIELDS[key]) throw browserField(`"${key}" is set by Segue and cannot be set by a browser`)
  }
}
