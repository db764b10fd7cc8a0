/**
 * The door for content: zod schemas for creating and patching a popup, slide-in, bar or inline block
 * (its URLs kept as a browser follows them), and its spec as stored.
 */
import { scheduleSchema } from '../workflows/schedule'
import { z } from 'zod'
import { type StoredContent } from '../../shared/content'
import { urlText } from '../http/validate'
import { LANGUAGE_TAG } from '../events/schema'

export const CONTENT_ID = /^[a-z0-9][a-z0-9_-]{0,47}$/
export const POSITIONS = ['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right'] as const

const httpUrl = urlText({ schemes: ['http:', 'https:'], message: 'must be an http or https URL' })
const linkUrl = urlText({ schemes: ['http:', 'https:', 'mailto:'], message: 'must be an http, https or mailto URL' })

const display = z.discriminatedUnion('on', [
  z.strictObject({ on: z.literal('immediately') }),
  z.strictObject({ on: z.literal('delay'), ms: z.number().int().min(0).max(600_000) }),
  z.strictObject({ on: z.literal('scroll'), percent: z.number().int().min(1).max(100) }),
  z.strictObject({ on: z.literal('exit') }),
  z.strictObject({ on: z.literal('click'), selector: z.string().trim().min(1).max(200) }),
  z.strictObject({ on: z.literal('idle'), seconds: z.number().int().min(1).max(3600) }),
  z.strictObject({ on: z.literal('pageViews'), count: z.number().int().min(1).max(100) }),
  z.strictObject({ on: z.literal('timeOnSite'), seconds: z.number().int().min(1).max(3600) }),
])

/** A form's fields: email, first name, or fields the site lets browsers set (checked against the site on save). */
const formField = z.strictObject({
  key: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a field key such as email or firstName'),
  label: z.string().trim().min(1).max(100),
  type: z.enum(['email', 'text', 'number', 'date', 'checkbox']),
  required: z.boolean().optional(),
})

const form = z
  .strictObject({
    fields: z.array(formField).min(1, 'a form needs at least one field').max(10),
    consent: z.strictObject({ text: z.string().trim().min(1).max(500), required: z.boolean().optional() }).optional(),
    submit: z.string().trim().min(1).max(40),
    thanks: z.string().trim().max(500).optional(),
  })
  .refine((f) => new Set(f.fields.map((x) => x.key)).size === f.fields.length, { message: 'ask for each field once', path: ['fields'] })
  .refine((f) => f.fields.every((x) => (x.key === 'email') === (x.type === 'email')), { message: 'the email field, and only it, has type email', path: ['fields'] })

/** A language tag as content versions are named: en, pt-BR, zh-Hant. */
const languageTag = z.string().regex(LANGUAGE_TAG, 'must be a language tag such as en or pt-BR')

/** What a version in another language replaces. */
const version = z.strictObject({
  title: z.string().max(200).optional(),
  body: z.string().max(20_000).optional(),
  cta: z.strictObject({ label: z.string().trim().min(1).max(80), url: linkUrl }).optional(),
  form: form.optional(),
})

const specFields = {
  format: z.enum(['popup', 'slide-in', 'bar', 'inline']),
  position: z.enum(POSITIONS).optional(),
  selector: z.string().trim().min(1).max(200).optional(),
  placement: z.enum(['before', 'after', 'inside', 'replace']).optional(),
  title: z.string().max(200).optional(),
  body: z.string().max(20_000).optional(),
  image: httpUrl.optional(),
  cta: z.strictObject({ label: z.string().trim().min(1).max(80), url: linkUrl }).optional(),
  display: display.default({ on: 'immediately' }),
  backdropCloses: z.boolean().optional(),
  interruptive: z.boolean().optional(),
  schedule: scheduleSchema.optional(),
  neverAfterClosed: z.boolean().optional(),
  neverAfterConverted: z.boolean().optional(),
  neverAfterSubmitted: z.boolean().optional(),
  form: form.optional(),
  versions: z
    .record(z.string().max(35), version)
    .superRefine((v, ctx) => {
      // Each language said at its own key, as a refusal beside the language box can show it.
      for (const lang of Object.keys(v)) {
        if (!LANGUAGE_TAG.test(lang)) ctx.addIssue({ code: 'custom', path: [lang], message: `"${lang}" is not a language tag such as en or pt-BR` })
      }
      if (Object.keys(v).length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 languages' })
    })
    .optional(),
  defaultLanguage: languageTag.optional(),
}

export const contentCreate = z.strictObject({
  id: z.string().regex(CONTENT_ID, 'must be 1–48 characters of a-z, 0-9, _ and -, starting with a letter or digit').optional(),
  name: z.string().trim().min(1, 'must not be empty').max(100),
  ...specFields,
})

export const contentPatch = z.strictObject({
  name: contentCreate.shape.name.optional(),
  ...specFields,
  format: specFields.format.optional(),
  display: display.optional(),
})

/** What a piece of content shows, as stored: the wire payload without its id. */
export type ContentSpec = Omit<StoredContent, 'id'>
