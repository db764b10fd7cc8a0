/**
 * zod schemas for the events of shared/events.ts, and their conversion to stored activities.
 * The same door serves POST /v1/events and the admin import of past activities.
 */
import { z } from 'zod'
import { type SegueEvent } from '../../shared/events'
import { type Activity } from '../conditions/evaluate'
import { parseInstant } from '../conditions/dates'
import { AMOUNT_SCALE } from '../conditions/prepare'
import { SIGNATURE } from '../visits/identity'
import { urlText } from '../http/validate'

export const EVENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/
const PROP_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/
/** Purchases above this are refused: sums of amounts must stay exact in a double. */
export const MAX_AMOUNT = 1_000_000_000

const base = {
  id: z.string().regex(EVENT_ID, 'must be 1–128 characters of A-Z, a-z, 0-9 and _ . : -'),
  at: z.string().refine((s) => parseInstant(s) !== undefined, { message: 'must be an ISO 8601 date-time' }).optional(),
}

const scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()])

/** A BCP 47 language tag as browsers report them (navigator.language): en, pt-BR, zh-Hant-TW. */
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}$/
/**
 * The browser's language, a hint for content with versions: one that is not a language tag is dropped
 * rather than refusing the visit it came with (the visit is what matters; the default version shows).
 */
const language = z
  .string()
  .max(64)
  .optional()
  .transform((tag) => (tag !== undefined && LANGUAGE_TAG.test(tag) ? tag : undefined))

const pageVisit = { ...base, type: z.literal('page_visit'), title: z.string().max(500).optional(), language }

const otherEvents = [
  z.strictObject({
    ...base,
    type: z.literal('purchase'),
    orderId: z.string().min(1).max(128).optional(),
    amount: z.number().finite().min(0).max(MAX_AMOUNT),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR').optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('identify'),
    email: z.string().max(254).optional(),
    // Not trimmed but refused: the admin API keeps external ids trimmed, and a signature covers the id as sent.
    externalId: z.string().min(1).max(128).refine((id) => id === id.trim(), { message: 'must not start or end with white space' }).optional(),
    signature: z.string().regex(SIGNATURE, 'must be a signature made with the site\'s identity secret: "<unix seconds>.<64 hex digits>"').optional(),
    fields: z.record(z.string().max(64), scalar.nullable()).optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('content'),
    content: z.string().min(1).max(64),
    action: z.enum(['shown', 'clicked', 'closed', 'submitted']),
    workflow: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a workflow id').optional(),
    consent: z.boolean().optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('custom'),
    name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1–64 characters of A-Z, a-z, 0-9 and _ . : -'),
    props: z
      .record(z.string().regex(PROP_KEY, 'property names start with a letter and hold letters, digits and _'), scalar)
      .refine((p) => Object.keys(p).length <= 50, { message: 'at most 50 properties' })
      .optional(),
  }),
] as const

/** Events of an import: page addresses are kept as the site recorded them. */
export const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...pageVisit, url: z.string().min(1).max(2048), referrer: z.string().max(2048).optional() }),
  ...otherEvents,
])

/** An event as an activity of the evaluator and the events table. */
export function toActivity(e: SegueEvent, receivedAt: number): Activity {
  const at = e.at === undefined ? receivedAt : parseInstant(e.at)!
  switch (e.type) {
    case 'page_visit':
      return { id: e.id, type: e.type, at, url: e.url, title: e.title, referrer: e.referrer, ...(e.language ? { props: { language: e.language } } : {}) }
    case 'purchase':
      return { id: e.id, type: e.type, at, orderId: e.orderId, amountMilli: Math.round(e.amount * AMOUNT_SCALE), currency: e.currency }
    case 'identify':
      return { id: e.id, type: e.type, at }
    case 'content':
      return { id: e.id, type: e.type, at, contentId: e.content, name: e.action, props: contentProps(e.workflow, e.consent) }
    case 'custom':
      return { id: e.id, type: e.type, at, name: e.name, props: e.props }
  }
}

/** What a content event keeps besides its action: the workflow that showed it, and a form's consent. */
function contentProps(workflow: string | undefined, consent: boolean | undefined): Record<string, unknown> | undefined {
  if (workflow === undefined && consent === undefined) return undefined
  return { ...(workflow !== undefined ? { workflow } : {}), ...(consent !== undefined ? { consent } : {}) }
}

/**
 * Events from a browser: the same shapes, with page addresses that must be real URLs, kept as the URL
 * parser writes them (the SDK sends location.href, already in that form). An empty referrer is none.
 */
export const browserEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...pageVisit,
    url: urlText({ schemes: ['http:', 'https:'], message: 'must be an http or https URL' }),
    referrer: z.preprocess((r) => (r === '' ? undefined : r), urlText({ schemes: ['http:', 'https:', 'android-app:'], message: 'must be a URL' }).optional()),
  }),
  ...otherEvents,
])
