/**
 * The sites table: a site as Segue keeps it — its public key, allowed origins, custom fields and those a
 * browser may set, identity secret, the limits of its public endpoint, and how long it keeps data.
 */
import { type CustomFieldDefinition } from '../conditions/fields'

/** A tier of request rates for the public endpoint: per visitor and per site (wrangler.toml's limiters). */
export type RateLimitTier = 'strict' | 'standard' | 'relaxed'

/** What a site's public endpoint takes. */
export interface SiteLimits {
  rate: RateLimitTier
  /** The largest event stored, in bytes of its JSON. */
  eventBytes: number
  /** What one contact may store in a day (UTC), in bytes of its events' JSON. */
  contactBytesPerDay: number
}

export const DEFAULT_LIMITS: SiteLimits = { rate: 'standard', eventBytes: 4096, contactBytesPerDay: 262_144 }

/** 13 months: a year back and the month around it, so "this month last year" is still there. */
export const DEFAULT_RETENTION_DAYS = 396

/** How long a site keeps data, in days; the cron prunes past it (worker/background/retention.ts). */
export interface SiteRetention {
  /** Raw activities (page visits, purchases...) older than this are deleted. */
  activityDays: number
  /** Anonymous contacts (no email, no external id) not seen for this long are deleted, with their data. */
  anonymousContactDays: number
}

export const DEFAULT_RETENTION: SiteRetention = { activityDays: DEFAULT_RETENTION_DAYS, anonymousContactDays: DEFAULT_RETENTION_DAYS }

/** What a site counts as a conversion: a purchase (the default), or a custom event such as `signup`. */
export type Conversion = { type: 'purchase' } | { type: 'custom'; name: string }

export interface Site {
  id: string
  key: string
  name: string
  allowedOrigins: string[]
  fields: CustomFieldDefinition[]
  browserFields: string[]
  /** Signs visitors' identities on the site's server (HMAC-SHA256); see worker/visits/identity.ts. */
  identitySecret: string
  identitySecretCreatedAt: number
  /** Believe an identify without a signature, as if the site had signed it. Off unless the owner says so. */
  trustUnsignedIdentify: boolean
  limits: SiteLimits
  retention: SiteRetention
  /** The data shards (D1 binding names) its contacts live on; see worker/data/shards.ts. */
  shards: string[]
  /** The placement it is being moved to, while a move runs (worker/background/move.ts). */
  movingTo: string[] | null
  /** The IANA time zone its schedules are read in. */
  timeZone: string
  /** At most this many pieces of interruptive content a visitor is shown a session, and a day; null: no cap. */
  fatigue: { perSession: number | null; perDay: number | null }
  /** How many days after a contact was first shown content a purchase counts as its conversion (7 unless set). */
  attributionDays: number
  /** What counts as a conversion: a purchase, or a custom event of a name the owner chose. */
  conversion: Conversion
  createdAt: number
  updatedAt: number
}

interface SiteRow {
  site_id: string
  site_key: string
  name: string
  allowed_origins: string
  fields: string
  browser_fields: string
  identity_secret: string
  identity_secret_created_at: number
  trust_unsigned_identify: number
  rate_limit: RateLimitTier
  max_event_bytes: number
  max_contact_bytes_per_day: number
  activity_retention_days: number
  anonymous_retention_days: number
  shards: string
  moving_to: string | null
  time_zone: string
  max_interruptive_per_session: number | null
  max_interruptive_per_day: number | null
  attribution_days: number
  conversion_event: string | null
  created_at: number
  updated_at: number
}

function toSite(r: SiteRow): Site {
  return {
    id: r.site_id,
    key: r.site_key,
    name: r.name,
    allowedOrigins: JSON.parse(r.allowed_origins),
    fields: JSON.parse(r.fields),
    browserFields: JSON.parse(r.browser_fields),
    identitySecret: r.identity_secret,
    identitySecretCreatedAt: r.identity_secret_created_at,
    trustUnsignedIdentify: r.trust_unsigned_identify === 1,
    limits: { rate: r.rate_limit, eventBytes: r.max_event_bytes, contactBytesPerDay: r.max_contact_bytes_per_day },
    retention: { activityDays: r.activity_retention_days, anonymousContactDays: r.anonymous_retention_days },
    shards: JSON.parse(r.shards),
    movingTo: r.moving_to === null ? null : JSON.parse(r.moving_to),
    timeZone: r.time_zone,
    fatigue: { perSession: r.max_interruptive_per_session, perDay: r.max_interruptive_per_day },
    attributionDays: r.attribution_days,
    conversion: r.conversion_event === null ? { type: 'purchase' } : { type: 'custom', name: r.conversion_event },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

export async function listSites(db: D1Database): Promise<Site[]> {
  const { results } = await db.prepare('SELECT * FROM sites ORDER BY name COLLATE NOCASE, site_id').all<SiteRow>()
  return results.map(toSite)
}

export async function getSite(db: D1Database, id: string): Promise<Site | undefined> {
  const row = await db.prepare('SELECT * FROM sites WHERE site_id = ?1').bind(id).first<SiteRow>()
  return row ? toSite(row) : undefined
}

export async function getSiteByKey(db: D1Database, key: string): Promise<Site | undefined> {
  const row = await db.prepare('SELECT * FROM sites WHERE site_key = ?1').bind(key).first<SiteRow>()
  return row ? toSite(row) : undefined
}

/**
 * A site to write. Without a retention, a new site gets the default and an existing one keeps its own.
 * Its placement is written only when it is created (then `shards`, or the control database); after that
 * only by `setPlacement`.
 */
export type SiteToSave = Omit<Site, 'retention' | 'shards' | 'movingTo' | 'timeZone' | 'fatigue' | 'attributionDays' | 'conversion'> & {
  attributionDays?: number
  conversion?: Conversion
  retention?: SiteRetention
  shards?: string[]
  timeZone?: string
  fatigue?: Site['fatigue']
}

/** Inserts or replaces a whole site, but for its placement. */
export function saveSite(db: D1Database, s: SiteToSave): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO sites (site_id, site_key, name, allowed_origins, fields, browser_fields, identity_secret,
         identity_secret_created_at, trust_unsigned_identify, rate_limit, max_event_bytes, max_contact_bytes_per_day,
         created_at, updated_at, activity_retention_days, anonymous_retention_days, shards, time_zone,
         max_interruptive_per_session, max_interruptive_per_day, attribution_days, conversion_event)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, coalesce(?15, ?17), coalesce(?16, ?17), coalesce(?18, '["DB"]'), coalesce(?19, 'UTC'),
         CASE WHEN ?20 THEN ?21 END, CASE WHEN ?20 THEN ?22 END, coalesce(?23, 7), CASE WHEN ?24 THEN ?25 END)
       ON CONFLICT (site_id) DO UPDATE SET site_key = ?2, name = ?3, allowed_origins = ?4, fields = ?5, time_zone = coalesce(?19, time_zone),
         max_interruptive_per_session = CASE WHEN ?20 THEN ?21 ELSE max_interruptive_per_session END,
         max_interruptive_per_day = CASE WHEN ?20 THEN ?22 ELSE max_interruptive_per_day END,
         attribution_days = coalesce(?23, attribution_days),
         conversion_event = CASE WHEN ?24 THEN ?25 ELSE conversion_event END,
         browser_fields = ?6, identity_secret = ?7, identity_secret_created_at = ?8, trust_unsigned_identify = ?9,
         rate_limit = ?10, max_event_bytes = ?11, max_contact_bytes_per_day = ?12, updated_at = ?14,
         activity_retention_days = coalesce(?15, activity_retention_days), anonymous_retention_days = coalesce(?16, anonymous_retention_days)`,
    )
    .bind(
      s.id, s.key, s.name, JSON.stringify(s.allowedOrigins), JSON.stringify(s.fields), JSON.stringify(s.browserFields),
      s.identitySecret, s.identitySecretCreatedAt, s.trustUnsignedIdentify ? 1 : 0, s.limits.rate, s.limits.eventBytes,
      s.limits.contactBytesPerDay, s.createdAt, s.updatedAt, s.retention?.activityDays ?? null, s.retention?.anonymousContactDays ?? null,
      DEFAULT_RETENTION_DAYS, s.shards ? JSON.stringify(s.shards) : null, s.timeZone ?? null,
      s.fatigue ? 1 : 0, s.fatigue?.perSession ?? null, s.fatigue?.perDay ?? null, s.attributionDays ?? null,
      s.conversion ? 1 : 0, s.conversion?.type === 'custom' ? s.conversion.name : null,
    )
}

/** Sets a site's placement, and the one it is moving to (null when no move runs). */
export function setPlacement(db: D1Database, siteId: string, shards: readonly string[], movingTo: readonly string[] | null): D1PreparedStatement {
  return db
    .prepare('UPDATE sites SET shards = ?2, moving_to = ?3 WHERE site_id = ?1')
    .bind(siteId, JSON.stringify(shards), movingTo === null ? null : JSON.stringify(movingTo))
}

/** Every site's placement (for the emptiest shard, and the shards page): one short row a site. */
export async function placements(db: D1Database): Promise<Array<{ siteId: string; shards: string[]; movingTo: string[] | null }>> {
  const { results } = await db.prepare('SELECT site_id, shards, moving_to FROM sites').all<{ site_id: string; shards: string; moving_to: string | null }>()
  return results.map((r) => ({ siteId: r.site_id, shards: JSON.parse(r.shards), movingTo: r.moving_to === null ? null : JSON.parse(r.moving_to) }))
}

/**
 * Marks a site as living on a shard, in that shard: contacts there reference their site, so the shard
 * holds a row for it. Only its id is read there; the rest are placeholders.
 */
export function siteOnShard(shard: D1Database, siteId: string, now: number): D1PreparedStatement {
  return shard
    .prepare(
      `INSERT INTO sites (site_id, site_key, name, identity_secret, identity_secret_created_at, created_at, updated_at)
       VALUES (?1, 'placed:' || ?1, ?1, '', ?2, ?2, ?2) ON CONFLICT DO NOTHING`,
    )
    .bind(siteId, now)
}

export async function siteKeyTaken(db: D1Database, key: string, exceptSite: string): Promise<boolean> {
  const row = await db.prepare('SELECT 1 AS taken FROM sites WHERE site_key = ?1 AND site_id != ?2').bind(key, exceptSite).first()
  return row !== null
}

/**
 * The first statement of every write to a shard: aborts the transaction when the site's row there is
 * fenced because the site is moving away from the shard, or has left it (migration 0009).
 */
export function fenceWrites(db: D1Database, siteId: string): D1PreparedStatement {
  return db.prepare('UPDATE sites SET write_fence = write_fence WHERE site_id = ?1').bind(siteId)
}

/**
 * Fences a site's row on a shard it is leaving (`movingTo`: where it goes), or lifts the fence (null) on a
 * shard it stays on or arrives at. On the control database, `setPlacement` keeps moving_to itself.
 */
export function fenceShard(db: D1Database, siteId: string, movingTo: readonly string[] | null): D1PreparedStatement {
  return db.prepare('UPDATE sites SET moving_to = ?2 WHERE site_id = ?1').bind(siteId, movingTo === null ? null : JSON.stringify(movingTo))
}
