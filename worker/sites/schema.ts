/**
 * The door for sites: zod schemas for creating and patching one — its allowed origins (kept as a browser
 * sends them), custom fields, the fields a browser may set, identify trust, endpoint limits and how long
 * data is kept.
 */
import { z } from 'zod'
import { FIELD_KEY, isSystemField } from '../conditions/fields'
import { urlText } from '../http/validate'
import { timeZoneSchema } from '../workflows/schedule'

const ORIGIN_MESSAGE = 'must be an origin such as https://shop.example (scheme, host and port only)'

/**
 * An origin, kept as a browser sends it in the Origin header (`https://Shop.Example:443/` is kept as
 * `https://shop.example`); an address with a path, a query, a fragment or credentials is refused.
 */
const origin = urlText({ schemes: ['http:', 'https:'], message: ORIGIN_MESSAGE, max: 200 }).transform((href, ctx) => {
  const { origin } = new URL(href)
  if (href === `${origin}/`) return origin
  ctx.addIssue({ code: 'custom', message: ORIGIN_MESSAGE, input: href })
  return z.NEVER
})

const customField = z.strictObject({
  key: z
    .string()
    .regex(FIELD_KEY, 'must start with a letter and hold only letters, digits and _ (64 at most)')
    .refine((k) => !isSystemField(k), { message: 'is a system field; custom fields need another name' }),
  type: z.enum(['string', 'number', 'boolean', 'date']),
  label: z.string().min(1).max(100).optional(),
})

/** Limits of the public endpoint; a patch names only those it changes. */
const limits = z.strictObject({
  rate: z.enum(['strict', 'standard', 'relaxed']).optional(),
  eventBytes: z.number().int().min(512).max(16_384).optional(),
  contactBytesPerDay: z.number().int().min(16_384).max(16_777_216).optional(),
})

/** Retention bounds, in days: a month at least, so that "in the last 30 days" always works; ten years at most. */
export const RETENTION_MIN_DAYS = 30
export const RETENTION_MAX_DAYS = 3650

const days = z
  .number()
  .int('must be a whole number of days')
  .min(RETENTION_MIN_DAYS, `must be at least ${RETENTION_MIN_DAYS} days`)
  .max(RETENTION_MAX_DAYS, `must be at most ${RETENTION_MAX_DAYS} days (ten years)`)

/** How long a site keeps raw activities and anonymous contacts not seen; a patch names only those it changes. */
const retention = z.strictObject({
  activityDays: days.optional(),
  anonymousContactDays: days.optional(),
})

/** Fatigue caps: at most this many pieces of interruptive content a session and a day; null for no cap. */
const cap = z.number().int().min(1).max(100).nullable()
const fatigue = z.strictObject({ perSession: cap.optional(), perDay: cap.optional() })
/** Days after a contact was first shown content that its purchases count as conversions. */
const attributionDays = z.number().int('must be a whole number of days').min(1).max(90)

/** What counts as a conversion: a purchase, or a custom event of this name (as `segue.track(name)` sends it). */
const conversion = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('purchase') }),
  z.strictObject({ type: z.literal('custom'), name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be an event name such as signup') }),
])

const siteFields = {
  name: z.string().trim().min(1, 'must not be empty').max(100),
  allowedOrigins: z.array(origin).max(50),
  fields: z
    .array(customField)
    .max(200)
    .refine((fs) => new Set(fs.map((f) => f.key)).size === fs.length, { message: 'declare each field key once' }),
  browserFields: z.array(z.string().max(64)).max(200),
  trustUnsignedIdentify: z.boolean(),
  limits,
  retention,
}

export const siteCreate = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{1,47}$/, 'must be 2–48 characters of a-z, 0-9, _ and -').optional(),
  key: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 characters of A-Z, a-z, 0-9, _ and -').optional(),
  ...siteFields,
  allowedOrigins: siteFields.allowedOrigins.default([]),
  fields: siteFields.fields.default([]),
  browserFields: siteFields.browserFields.default([]),
  trustUnsignedIdentify: siteFields.trustUnsignedIdentify.default(false),
  limits: siteFields.limits.default({}),
  retention: siteFields.retention.default({}),
  /** How many data shards its contacts spread over (the emptiest ones); 1 unless the site will be big. */
  shards: z.number().int().min(1).max(64).default(1),
  timeZone: timeZoneSchema.default('UTC'),
  fatigue: fatigue.optional(),
  attributionDays: attributionDays.default(7),
  conversion: conversion.default({ type: 'purchase' }),
})

export const sitePatch = z.strictObject({
  key: siteCreate.shape.key,
  name: siteFields.name.optional(),
  allowedOrigins: siteFields.allowedOrigins.optional(),
  fields: siteFields.fields.optional(),
  browserFields: siteFields.browserFields.optional(),
  trustUnsignedIdentify: siteFields.trustUnsignedIdentify.optional(),
  limits: siteFields.limits.optional(),
  retention: siteFields.retention.optional(),
  timeZone: timeZoneSchema.optional(),
  fatigue: fatigue.optional(),
  attributionDays: attributionDays.optional(),
  conversion: conversion.optional(),
})

/** Where to move a site's contact data: binding names of data shards, each once (see background/move.ts). */
export const siteMove = z.strictObject({
  shards: z
    .array(z.string().regex(/^SHARD_\d+$/, 'must be the binding name of a data shard, such as SHARD_2'))
    .min(1, 'name at least one shard')
    .max(64)
    .refine((names) => new Set(names).size === names.length, { message: 'name each shard once' }),
})
