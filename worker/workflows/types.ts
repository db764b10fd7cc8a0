/**
 * A workflow: a Start node (trigger and limitation) and a graph of condition and action nodes.
 *
 * @example
 * const albumOfTheWeek: WorkflowGraph = {
 *   start: { trigger: { type: 'page_visit' }, limitation: null },
 *   entry: 'n1',
 *   nodes: {
 *     n1: { type: 'isInSegment', segment: 'seg_millennials', yes: 'n2', no: 'n3', limitation: { cooldown: '1d' } },
 *     n2: { type: 'showContent', content: 'rock' },
 *     n3: { type: 'showContent', content: 'jazz' },
 *   },
 * }
 */
import { type FieldOp, type Scalar } from '../conditions/types'
import { type Schedule } from './schedule'

export type UrlMatch = { op: 'eq' | 'startsWith' | 'contains'; value: string }

/** A visitor's device class, worked out at the edge (worker/visits/device.ts). */
export type DeviceClass = 'desktop' | 'mobile' | 'tablet'

export type Trigger =
  | { type: 'page_visit'; url?: UrlMatch; exclude?: UrlMatch[]; devices?: DeviceClass[] }
  | { type: 'purchase' }
  | { type: 'identify' }
  | { type: 'custom'; name: string }
  /** A visitor sent the form of a piece of content (of any content with a form, when none is named). */
  | { type: 'contentSubmitted'; content?: string }
  | { type: 'segmentEntered'; segment: string }
  | { type: 'segmentLeft'; segment: string }

/** Who may enter the workflow: everyone (null), members of a segment, or contacts with an email. */
export type StartLimitation = null | { segment: string } | { hasEmail: true }

/** How often a node may run for one contact: at most N times, and not again within a duration. */
export interface NodeLimitation {
  maxPerContact?: number
  cooldown?: string
}

interface Base {
  limitation?: NodeLimitation
}

export type WorkflowNode =
  | (Base & { type: 'isInSegment'; segment: string; yes?: string; no?: string })
  | (Base & { type: 'checkField'; field: string; op: FieldOp; value?: unknown; yes?: string; no?: string })
  | (Base & { type: 'hasField'; field: string; yes?: string; no?: string })
  | (Base & { type: 'checkDevice'; devices: DeviceClass[]; yes?: string; no?: string })
  | (Base & { type: 'showContent'; content: string; next?: string })
  | (Base & { type: 'addToSegment'; segment: string; next?: string })
  | (Base & { type: 'removeFromSegment'; segment: string; next?: string })
  | (Base & { type: 'setField'; field: string; value: Scalar | null; next?: string })
  | (Base & { type: 'abTest'; variants: Variant[]; winner?: string })
  | (Base & { type: 'split'; branches: Variant[] })

/**
 * A branch of an A/B/X test or a split: its id, its share of contacts (weights are relative) and where it
 * leads. A contact always takes the same branch of a node (see worker/workflows/assign.ts).
 */
export interface Variant {
  id: string
  name?: string
  weight: number
  next?: string
}

export interface WorkflowGraph {
  /** `schedule`: when the workflow runs, in the site's time zone (worker/workflows/schedule.ts); always when absent. */
  start: { trigger: Trigger; limitation: StartLimitation; schedule?: Schedule }
  entry: string
  nodes: Record<string, WorkflowNode>
}

export type WorkflowStatus = 'active' | 'paused'

/** Where the console's canvas draws the Start node ('start') and each node: looks only, never read by the decision. */
export type WorkflowLayout = Record<string, { x: number; y: number }>

/** The nodes a node leads to, in branch order. */
export function successors(node: WorkflowNode): string[] {
  const out: string[] = []
  if ('yes' in node && node.yes) out.push(node.yes)
  if ('no' in node && node.no) out.push(node.no)
  if ('next' in node && node.next) out.push(node.next)
  if (node.type === 'abTest') for (const v of node.variants) if (v.next) out.push(v.next)
  if (node.type === 'split') for (const b of node.branches) if (b.next) out.push(b.next)
  return out
}
