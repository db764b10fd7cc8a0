/**
 * Checks a workflow graph before it is saved: one entry, every node reachable, no cycles, no reference to
 * a node, segment, content or field that does not exist, and add/remove only on static segments.
 */
import { FieldCatalog, SYSTEM_FIELDS, isSystemField } from '../conditions/fields'
import { prepare } from '../conditions/prepare'
import { checkFields } from '../contacts/schema'
import { type WorkflowGraph, type WorkflowNode, successors } from './types'

export interface GraphContext {
  segments: ReadonlyMap<string, 'static' | 'dynamic'>
  content: ReadonlySet<string>
  catalog: FieldCatalog
}

/** Why a graph was refused, and the node at fault (`start` for the Start node). */
export interface GraphProblem {
  node: string
  message: string
}

export function checkGraph(graph: WorkflowGraph, ctx: GraphContext): GraphProblem | undefined {
  const { start, entry, nodes } = graph
  const trigger = start.trigger
  if ((trigger.type === 'segmentEntered' || trigger.type === 'segmentLeft') && !ctx.segments.has(trigger.segment)) {
    return { node: 'start', message: `the trigger's segment "${trigger.segment}" does not exist` }
  }
  if (trigger.type === 'contentSubmitted' && trigger.content !== undefined && !ctx.content.has(trigger.content)) {
    return { node: 'start', message: `the trigger's content "${trigger.content}" does not exist` }
  }
  if (start.limitation && 'segment' in start.limitation && !ctx.segments.has(start.limitation.segment)) {
    return { node: 'start', message: `the limitation's segment "${start.limitation.segment}" does not exist` }
  }
  if (!Object.hasOwn(nodes, entry)) return { node: 'start', message: `the entry node "${entry}" does not exist` }

  for (const [id, node] of Object.entries(nodes)) {
    for (const to of successors(node)) {
      if (!Object.hasOwn(nodes, to)) return { node: id, message: `leads to node "${to}", which does not exist` }
    }
    const problem = checkNode(node, ctx)
    if (problem) return { node: id, message: problem }
  }

  const cycle = findCycle(nodes, entry)
  if (cycle) return { node: cycle[0], message: `is part of a loop: ${cycle.join(' → ')}` }
  const reached = reachable(nodes, entry)
  const orphan = Object.keys(nodes).find((id) => !reached.has(id))
  if (orphan) return { node: orphan, message: 'cannot be reached from the Start node' }
  return undefined
}

function checkNode(node: WorkflowNode, ctx: GraphContext): string | undefined {
  switch (node.type) {
    case 'isInSegment':
      return ctx.segments.has(node.segment) ? undefined : `segment "${node.segment}" does not exist`
    case 'addToSegment':
    case 'removeFromSegment': {
      const type = ctx.segments.get(node.segment)
      if (!type) return `segment "${node.segment}" does not exist`
      return type === 'dynamic' ? `segment "${node.segment}" is dynamic: its members follow its conditions, so a workflow can only add to and remove from static segments` : undefined
    }
    case 'showContent':
      return ctx.content.has(node.content) ? undefined : `content "${node.content}" does not exist`
    case 'checkField': {
      const info = ctx.catalog.get(node.field)
      if (!info) return `field "${node.field}" is not a system field or one of the site's fields`
      const p = prepare({ field: node.field, op: node.op, value: node.value }, ctx.catalog)
      return p.node === 'field' && p.test.t === 'never' ? `the test "${node.op}" with ${JSON.stringify(node.value)} cannot match field "${node.field}" (${info.type})` : undefined
    }
    case 'hasField':
      return ctx.catalog.get(node.field) ? undefined : `field "${node.field}" is not a system field or one of the site's fields`
    case 'abTest':
    case 'split':
    case 'checkDevice':
      return undefined
    case 'setField': {
      if (node.field === 'email' || node.field === 'externalId' || (isSystemField(node.field) && 'readOnly' in SYSTEM_FIELDS[node.field])) {
        return `field "${node.field}" cannot be set by a workflow`
      }
      const { issues } = checkFields(ctx.catalog, { [node.field]: node.value })
      return issues[0] && `${issues[0].path}: ${issues[0].message}`
    }
  }
}

function findCycle(nodes: Record<string, WorkflowNode>, entry: string): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id]
    if (state.get(id) === 'done' || !nodes[id]) return undefined
    state.set(id, 'open')
    path.push(id)
    for (const to of successors(nodes[id])) {
      const found = visit(to)
      if (found) return found
    }
    path.pop()
    state.set(id, 'done')
    return undefined
  }
  return visit(entry) ?? Object.keys(nodes).map(visit).find(Boolean)
}

function reachable(nodes: Record<string, WorkflowNode>, entry: string): Set<string> {
  const seen = new Set<string>()
  const stack = [entry]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (seen.has(id) || !nodes[id]) continue
    seen.add(id)
    stack.push(...successors(nodes[id]))
  }
  return seen
}

/** The ids of the nodes (or `start`) that refer to a segment or to content. */
export function nodesReferring(graph: WorkflowGraph, ref: { segment?: string; content?: string }): string[] {
  const out: string[] = []
  const t = graph.start.trigger
  const lim = graph.start.limitation
  if (ref.segment && (('segment' in t && t.segment === ref.segment) || (lim && 'segment' in lim && lim.segment === ref.segment))) out.push('start')
  if (ref.content && t.type === 'contentSubmitted' && t.content === ref.content) out.push('start')
  for (const [id, node] of Object.entries(graph.nodes)) {
    if (ref.segment && 'segment' in node && node.segment === ref.segment) out.push(id)
    if (ref.content && node.type === 'showContent' && node.content === ref.content) out.push(id)
  }
  return out
}
