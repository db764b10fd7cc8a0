/**
 * The door for workflows: zod schemas for a workflow's Start node (trigger and limitation), its nodes and
 * a patch; worker/workflows/graph.ts then checks the graph against the site.
 */
import { z } from 'zod'
import { parseDuration } from '../conditions/durations'
import { FIELD_OPS } from '../conditions/types'
import { scheduleSchema } from './schedule'

export const WORKFLOW_ID = /^wf_[a-z0-9_]{1,48}$/
const NODE_ID = /^[A-Za-z0-9_-]{1,32}$/
const MAX_NODES = 100

const nodeId = z.string().regex(NODE_ID, 'node ids are 1–32 characters of A-Z, a-z, 0-9, _ and -')
const segmentId = z.string().min(1).max(64)
const urlMatch = z.strictObject({ op: z.enum(['eq', 'startsWith', 'contains']), value: z.string().min(1).max(2048) })

/** Device classes, each once: desktop, mobile, tablet. */
const devices = z
  .array(z.enum(['desktop', 'mobile', 'tablet']))
  .min(1, 'name at least one device')
  .refine((list) => new Set(list).size === list.length, { message: 'name each device once' })

const trigger = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('page_visit'), url: urlMatch.optional(), exclude: z.array(urlMatch).max(20).optional(), devices: devices.optional() }),
  z.strictObject({ type: z.literal('purchase') }),
  z.strictObject({ type: z.literal('identify') }),
  z.strictObject({ type: z.literal('custom'), name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be an event name such as signup') }),
  z.strictObject({ type: z.literal('contentSubmitted'), content: z.string().min(1).max(64).optional() }),
  z.strictObject({ type: z.literal('segmentEntered'), segment: segmentId }),
  z.strictObject({ type: z.literal('segmentLeft'), segment: segmentId }),
])

const startLimitation = z.union([z.null(), z.strictObject({ segment: segmentId }), z.strictObject({ hasEmail: z.literal(true) })])

const limitation = z
  .strictObject({
    maxPerContact: z.number().int().min(1).max(1_000_000).optional(),
    cooldown: z.string().refine((d) => parseDuration(d) !== undefined, { message: 'must be a duration such as 1d, 12h or 30m' }).optional(),
  })
  .refine((l) => l.maxPerContact !== undefined || l.cooldown !== undefined, { message: 'give maxPerContact, cooldown or both' })

const base = { limitation: limitation.optional() }
const branches = { yes: nodeId.optional(), no: nodeId.optional() }
const next = { next: nodeId.optional() }
const scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()])

const VARIANT_ID = /^[A-Za-z0-9_-]{1,32}$/

/** Two to five branches, each with its own id and a positive weight (relative shares). */
const variants = (min: number, max: number) =>
  z
    .array(
      z.strictObject({
        id: z.string().regex(VARIANT_ID, 'variant ids are 1–32 characters of A-Z, a-z, 0-9, _ and -'),
        name: z.string().trim().min(1).max(100).optional(),
        weight: z.number().finite().min(0.01, 'must be more than 0').max(1000),
        next: nodeId.optional(),
      }),
    )
    .min(min, `give at least ${min} branches`)
    .max(max, `give at most ${max} branches`)
    .refine((list) => new Set(list.map((v) => v.id)).size === list.length, { message: 'each branch needs its own id' })

const node = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('isInSegment'), segment: segmentId, ...branches }),
  z.strictObject({ ...base, type: z.literal('checkField'), field: z.string().min(1).max(64), op: z.enum(FIELD_OPS), value: z.unknown().optional(), ...branches }),
  z.strictObject({ ...base, type: z.literal('hasField'), field: z.string().min(1).max(64), ...branches }),
  z.strictObject({ ...base, type: z.literal('checkDevice'), devices, ...branches }),
  z.strictObject({ ...base, type: z.literal('showContent'), content: z.string().min(1).max(64), ...next }),
  z.strictObject({ ...base, type: z.literal('addToSegment'), segment: segmentId, ...next }),
  z.strictObject({ ...base, type: z.literal('removeFromSegment'), segment: segmentId, ...next }),
  z.strictObject({ ...base, type: z.literal('setField'), field: z.string().min(1).max(64), value: scalar.nullable(), ...next }),
  z
    .strictObject({ ...base, type: z.literal('abTest'), variants: variants(2, 5), winner: z.string().regex(VARIANT_ID).optional() })
    .refine((n) => n.winner === undefined || n.variants.some((v) => v.id === n.winner), { message: 'the winner must be one of the variants', path: ['winner'] }),
  z.strictObject({ ...base, type: z.literal('split'), branches: variants(2, 5) }),
])

const graphFields = {
  start: z.strictObject({ trigger, limitation: startLimitation.default(null), schedule: scheduleSchema.optional() }),
  entry: nodeId,
  nodes: z
    .record(z.string(), node)
    .refine((n) => Object.keys(n).length > 0, { message: 'a workflow needs at least one node after Start' })
    .refine((n) => Object.keys(n).length <= MAX_NODES, { message: `a workflow holds at most ${MAX_NODES} nodes` })
    .refine((n) => Object.keys(n).every((k) => NODE_ID.test(k)), { message: 'node ids are 1–32 characters of A-Z, a-z, 0-9, _ and -' })
    // 'start' names the Start node (in refusals, the live view and the layout): no node may take it.
    .refine((n) => !Object.hasOwn(n, 'start'), { message: "'start' names the Start node: give the node another id" }),
}

/** A place on the console's canvas; generous bounds keep a hand-written layout from holding absurd numbers. */
const point = z.strictObject({ x: z.number().finite().min(-100_000).max(100_000), y: z.number().finite().min(-100_000).max(100_000) })

/** Where the canvas draws 'start' and each node (looks only); every key must be 'start' or a node of the workflow. */
const layout = z
  .record(z.string().regex(NODE_ID, "keys are 'start' and node ids"), point)
  .refine((l) => Object.keys(l).length <= MAX_NODES + 1, { message: `a layout places at most ${MAX_NODES + 1} nodes` })
  .meta({
    description:
      "Where the console's canvas draws the Start node ('start') and each node: top-left corners. Looks only: the decision never reads it. Every key must be 'start' or a node of the workflow; a PATCH that changes the nodes without a layout keeps the places of the nodes still there.",
    example: { start: { x: 0, y: 0 }, segment: { x: 310, y: 0 }, rock: { x: 620, y: -60 }, jazz: { x: 620, y: 60 } },
  })

export const workflowCreate = z.strictObject({
  id: z.string().regex(WORKFLOW_ID, 'must be wf_ followed by 1–48 characters of a-z, 0-9 and _').optional(),
  name: z.string().trim().min(1, 'must not be empty').max(100),
  status: z.enum(['active', 'paused']).default('paused'),
  /** Where it runs among the site's workflows: a smaller number first; a new one goes last unless given. */
  priority: z.number().int().min(0).max(1_000_000).optional(),
  ...graphFields,
  layout: layout.optional(),
})

export const workflowPatch = z.strictObject({
  name: workflowCreate.shape.name.optional(),
  priority: workflowCreate.shape.priority,
  start: graphFields.start.optional(),
  entry: graphFields.entry.optional(),
  nodes: graphFields.nodes.optional(),
  layout: layout.optional(),
})

const MAX_ORDER = 1000

/** `PUT /workflows/order`: every workflow of the site, each once, in the order they are to run (checked by the service). */
export const workflowOrder = z.strictObject({
  ids: z.array(z.string().min(1).max(64)).min(1, 'name every workflow of the site').max(MAX_ORDER, `an order holds at most ${MAX_ORDER} workflows`),
})

/** Picking an A/B test's winner: the variant everyone takes from then on. */
export const winnerBody = z.strictObject({ variant: z.string().min(1).max(32) })
