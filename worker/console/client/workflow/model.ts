/**
 * The workflow being edited, as plain data, and what the canvas and the form do to it: the node types of
 * the toolbox and what a fresh node of each holds, each node's outputs (yes / no, next, a variant or a
 * branch) and where they lead, connecting and disconnecting outputs, adding and removing nodes, and the
 * words that describe a node. No DOM here, so the rules are the same in both views.
 */
import { OP_LABELS } from '../ops'

export type Json = Record<string, any>

export interface Names {
  segments: Array<{ id: string; name: string; type: string }>
  content: Array<{ id: string; name: string }>
  fields: Array<{ key: string; label: string; type: string }>
}

/** The workflow: its name, Start node, entry, nodes and where the canvas draws each ('start' too). */
export interface WorkflowDraft {
  id?: string
  name: string
  status?: 'active' | 'paused'
  start: Json
  entry: string
  nodes: Record<string, Json>
  layout?: Record<string, { x: number; y: number }>
}

export type NodeKind = 'condition' | 'action' | 'branching'

/** The toolbox, in its order: every node type, what kind of node it is and a line saying what it does. */
export const NODE_TYPES: ReadonlyArray<{ type: string; label: string; kind: NodeKind; hint: string }> = [
  { type: 'isInSegment', label: 'Is in segment', kind: 'condition', hint: 'Yes when the contact is in a segment' },
  { type: 'checkField', label: 'Check field', kind: 'condition', hint: "Yes when a field's value passes a test" },
  { type: 'hasField', label: 'Has field', kind: 'condition', hint: 'Yes when the contact has a value for a field' },
  { type: 'checkDevice', label: 'Check device', kind: 'condition', hint: 'Yes on the devices you pick' },
  { type: 'showContent', label: 'Show content', kind: 'action', hint: 'Shows a popup, slide-in, bar or inline content' },
  { type: 'addToSegment', label: 'Add to segment', kind: 'action', hint: 'Adds the contact to a static segment' },
  { type: 'removeFromSegment', label: 'Remove from segment', kind: 'action', hint: 'Takes the contact out of a static segment' },
  { type: 'setField', label: 'Set field', kind: 'action', hint: "Sets or clears one of the contact's fields" },
  { type: 'abTest', label: 'A/B test', kind: 'branching', hint: 'Sends each contact down one variant, for good, by weight' },
  { type: 'split', label: 'Split', kind: 'branching', hint: 'Sends each run down one branch at random, by weight' },
]

/** The Start node's triggers. */
export const TRIGGERS: ReadonlyArray<readonly [string, string]> = [
  ['page_visit', 'Page visit'], ['purchase', 'Purchase'], ['identify', 'Identify'], ['custom', 'Custom event'], ['contentSubmitted', 'A form sent'],
  ['segmentEntered', 'Entering a segment'], ['segmentLeft', 'Leaving a segment'],
]

export const kindOf = (n: Json): NodeKind => NODE_TYPES.find((t) => t.type === n.type)?.kind ?? 'action'
export const isCondition = (n: Json) => kindOf(n) === 'condition'
/** The arms of an A/B test (variants) or a split (branches), each with its weight and where it goes. */
export const armsOf = (n: Json): Json[] | undefined => (n.type === 'abTest' ? n.variants : n.type === 'split' ? n.branches : undefined)

/**
 * A node's outputs, connected or not: `handle` names the output on the canvas (yes, no, next, arm-0…),
 * `branch` is what the live view counts it by (yes, no, next or the arm's id), `label` what its arrow says.
 */
export function outputs(n: Json): Array<{ handle: string; branch: string; label: string; to?: string }> {
  const arms = armsOf(n)
  if (arms) return arms.map((arm, i) => ({ handle: `arm-${i}`, branch: arm.id, label: arm.name ?? arm.id, to: arm.next }))
  if (isCondition(n)) return [{ handle: 'yes', branch: 'yes', label: 'yes', to: n.yes }, { handle: 'no', branch: 'no', label: 'no', to: n.no }]
  return [{ handle: 'next', branch: 'next', label: '', to: n.next }]
}

/** Leads `handle` of node `from` ('start' for the Start node) to node `to`, replacing where it led. */
export function connect(wf: WorkflowDraft, from: string, handle: string | null | undefined, to: string): boolean {
  if (!wf.nodes[to] || from === to) return false
  if (from === 'start') {
    wf.entry = to
    return true
  }
  const n = wf.nodes[from]
  if (!n) return false
  const arm = /^arm-(\d+)$/.exec(handle ?? '')
  if (arm) {
    const a = armsOf(n)?.[Number(arm[1])]
    if (!a) return false
    a.next = to
  } else {
    // Without a handle, a condition's yes or an action's next.
    const key = handle || (isCondition(n) ? 'yes' : 'next')
    const fits = isCondition(n) ? key === 'yes' || key === 'no' : !armsOf(n) && key === 'next'
    if (!fits) return false
    n[key] = to
  }
  return true
}

/** Ends `handle` of node `from` there (the Start node always leads somewhere, so it is never disconnected). */
export function disconnect(wf: WorkflowDraft, from: string, handle: string | null | undefined): void {
  const n = wf.nodes[from]
  if (!n) return
  const arm = /^arm-(\d+)$/.exec(handle ?? '')
  if (arm) delete armsOf(n)?.[Number(arm[1])]?.next
  else if (handle === 'yes' || handle === 'no' || handle === 'next') delete n[handle]
}

/**
 * The first free id of the form n1, n2…, never one of `reserved`: the ids the saved workflow had, so a new
 * node does not take a removed one's live-view counts or refusal.
 */
export function freeId(wf: WorkflowDraft, reserved: readonly string[] = []): string {
  const taken = (id: string) => Object.hasOwn(wf.nodes, id) || reserved.includes(id)
  let k = 1
  while (taken(`n${k}`)) k++
  return `n${k}`
}

/** A fresh node of `type`, filled with the site's first segment, content or field, keeping `keep`'s exits and limitation. */
export function freshNode(type: string, names: Names, keep: Json = {}): Json {
  const statics = names.segments.filter((s) => s.type === 'static')
  const next = keep.next ?? keep.yes ?? armsOf(keep)?.[0]?.next
  const fresh: Json = { type, limitation: keep.limitation }
  if (type === 'isInSegment') Object.assign(fresh, { segment: names.segments[0]?.id ?? '', yes: keep.yes, no: keep.no })
  if (type === 'checkField') Object.assign(fresh, { field: 'country', op: 'eq', value: '', yes: keep.yes, no: keep.no })
  if (type === 'hasField') Object.assign(fresh, { field: 'email', yes: keep.yes, no: keep.no })
  if (type === 'checkDevice') Object.assign(fresh, { devices: ['mobile'], yes: keep.yes, no: keep.no })
  if (type === 'showContent') Object.assign(fresh, { content: names.content[0]?.id ?? '', next })
  if (type === 'addToSegment' || type === 'removeFromSegment') Object.assign(fresh, { segment: statics[0]?.id ?? '', next })
  if (type === 'setField') Object.assign(fresh, { field: 'newsletter', value: 'subscribed', next })
  if (type === 'abTest') Object.assign(fresh, { variants: [{ id: 'a', weight: 1, next }, { id: 'b', weight: 1 }] })
  if (type === 'split') Object.assign(fresh, { branches: [{ id: 'a', weight: 1, next }, { id: 'b', weight: 1 }] })
  for (const k of Object.keys(fresh)) if (fresh[k] === undefined) delete fresh[k]
  for (const arm of armsOf(fresh) ?? []) if (arm.next === undefined) delete arm.next
  return fresh
}

/** Adds a fresh node of `type` (placed at `at` when given); a workflow without nodes starts from it. Its id. */
export function addNode(wf: WorkflowDraft, type: string, names: Names, at?: { x: number; y: number }, reserved: readonly string[] = []): string {
  const id = freeId(wf, reserved)
  wf.nodes[id] = freshNode(type, names)
  if (!wf.nodes[wf.entry]) wf.entry = id
  if (at) (wf.layout ??= {})[id] = { x: Math.round(at.x), y: Math.round(at.y) }
  return id
}

/** A fresh id for a new variant or branch: the first letter its siblings do not use. */
export function freeArmId(arms: Json[]): string {
  for (let c = 97; c < 123; c++) if (!arms.some((a) => a.id === String.fromCharCode(c))) return String.fromCharCode(c)
  return `v${arms.length + 1}`
}

/** An A/B test's winner must be one of its variants: dropped when that variant goes or is renamed. */
export function keepWinner(n: Json): void {
  if (n.type === 'abTest' && n.winner !== undefined && !n.variants.some((v: Json) => v.id === n.winner)) delete n.winner
}

/** Removes a node and every arrow into it; the entry moves to the first node left when it was the entry. */
export function removeNode(wf: WorkflowDraft, id: string): void {
  if (!wf.nodes[id]) return
  delete wf.nodes[id]
  delete wf.layout?.[id]
  for (const n of Object.values(wf.nodes)) {
    for (const k of ['yes', 'no', 'next']) if (n[k] === id) delete n[k]
    for (const arm of armsOf(n) ?? []) if (arm.next === id) delete arm.next
  }
  if (wf.entry === id) wf.entry = Object.keys(wf.nodes)[0] ?? ''
}

/** Words for a node: what it asks or does. */
export function describe(n: Json, names: Names): string {
  const segment = (id: string) => names.segments.find((s) => s.id === id)?.name ?? id
  const field = (key: string) => names.fields.find((f) => f.key === key)?.label ?? key
  switch (n.type) {
    case 'isInSegment':
      return `In ${segment(n.segment)}?`
    case 'checkField':
      return `${field(n.field)} ${OP_LABELS[n.op as keyof typeof OP_LABELS] ?? n.op} ${Array.isArray(n.value) ? n.value.join('–') : n.value ?? ''}?`.replace(/ \?$/, '?')
    case 'hasField':
      return `Has ${field(n.field)}?`
    case 'showContent':
      return `Show ${names.content.find((c) => c.id === n.content)?.name ?? n.content}`
    case 'addToSegment':
      return `Add to ${segment(n.segment)}`
    case 'removeFromSegment':
      return `Remove from ${segment(n.segment)}`
    case 'setField':
      return `Set ${field(n.field)}`
    case 'checkDevice':
      return `On ${n.devices.join(' or ')}?`
    case 'abTest':
      return n.winner ? `A/B test: ${n.winner} won` : `A/B test (${n.variants.length})`
    case 'split':
      return `Split (${n.branches.length})`
    default:
      return n.type
  }
}

/** The Start node's trigger in words. */
export const triggerLabel = (wf: WorkflowDraft) => TRIGGERS.find(([t]) => t === wf.start.trigger.type)?.[1] ?? wf.start.trigger.type

/** What is saved: the workflow without fields the server does not take. */
export function saved(wf: WorkflowDraft): Json {
  return { id: wf.id, name: wf.name, start: wf.start, entry: wf.entry, nodes: wf.nodes, layout: wf.layout }
}
