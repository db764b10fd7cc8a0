/**
 * The door for content: zod schemas for creating and patching a popup, slide-in, bar or inline block
 * (its URLs kept as a browser follows them), and its spec as stored.
 */
import { scheduleSchema } from '../workflows/schedule'
import { z } from 'zod'
import { type ContentPayload } from '../../shared/content'
import { urlText } from '../http/validate'

export const CONTENT_ID = /^[a-z0-9][a-z0-9_-]{0,47}$/
export const POSITIONS = ['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right'] as const

const httpUrl = urlText({ schemes: ['http:', 'https:'], message: 'must be an http or https URL' })
const linkUrl = urlText({ schemes: ['http:', 'https:', 'mailto:'], message: 'must be an http, https or mailto URL' })

const display = z.discriminatedUnion('on', [
  z.strictObject({ on: z.literal('immediately') }),
  z.strictObject({ on: z.literal('delay'), ms: z.number().int().min(0).max(600_000) }),
  z.strictObject({ on: z.literal('scroll'), percent: z.number().int().min(1).max(100) }),
  z.strictObject({ on: z.literal('exit') }),
])

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
export type ContentSpec = Omit<ContentPayload, 'id'>
