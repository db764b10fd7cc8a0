/**
 * The door for segments: zod schemas for creating, patching, previewing and listing them; a condition tree
 * is checked by worker/conditions/schema.ts.
 */
import { z } from 'zod'
import { conditionTree } from '../conditions/schema'
import { TREND_DAYS } from './trends'

export const SEGMENT_ID = /^seg_[a-z0-9_]{1,48}$/

const name = z.string().trim().min(1, 'must not be empty').max(100)
const description = z.string().trim().max(1000)

export const segmentCreate = z.strictObject({
  id: z.string().regex(SEGMENT_ID, 'must be seg_ followed by 1–48 characters of a-z, 0-9 and _').optional(),
  name,
  description: description.default(''),
  type: z.enum(['static', 'dynamic']),
  conditions: conditionTree.optional(),
})

export const segmentPatch = z.strictObject({
  name: name.optional(),
  description: description.optional(),
  type: z.enum(['static', 'dynamic']).optional(),
  conditions: conditionTree.optional(),
})

export const segmentPreview = z.strictObject({
  conditions: conditionTree,
  /** The segment being edited, if any: its own id may not appear in the conditions. */
  segment: z.string().max(64).optional(),
  sample: z.number().int().min(0).max(50).default(10),
})

export const segmentListQuery = z.object({
  type: z.enum(['static', 'dynamic']).optional(),
  q: z.string().max(100).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

/** A trend's length in days: the last 30 unless asked, at most what the cron keeps. */
export const trendQuery = z.object({ days: z.coerce.number().int().min(1).max(TREND_DAYS).default(30) })
