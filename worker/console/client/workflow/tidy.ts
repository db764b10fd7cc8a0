/**
 * The canvas's automatic layout: dagre ranks the graph left to right from the Start node, so every arrow
 * points forwards and branches fan out beside each other. Used for a workflow that has no places yet,
 * for nodes added without one, and by the Tidy up button.
 */
import { Graph, layout } from '@dagrejs/dagre'
import { type WorkflowDraft, outputs } from './model'

/** The size the canvas draws a node at (a node with more than two outputs grows a row per output). */
export const NODE_WIDTH = 220
export const nodeHeight = (outs: number) => 76 + Math.max(0, outs - 2) * 20

/** Places for 'start' and every node, top-left corners, as dagre lays them out. */
export function tidy(wf: WorkflowDraft): Record<string, { x: number; y: number }> {
  const g = new Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 36, ranksep: 90, marginx: 20, marginy: 20 })
  g.setDefaultEdgeLabel(() => ({}))
  g.setNode('start', { width: NODE_WIDTH, height: nodeHeight(1) })
  for (const [id, n] of Object.entries(wf.nodes)) g.setNode(id, { width: NODE_WIDTH, height: nodeHeight(outputs(n).length) })
  if (wf.nodes[wf.entry]) g.setEdge('start', wf.entry)
  for (const [id, n] of Object.entries(wf.nodes)) for (const o of outputs(n)) if (o.to && wf.nodes[o.to]) g.setEdge(id, o.to)
  layout(g)
  const places: Record<string, { x: number; y: number }> = {}
  for (const id of g.nodes()) {
    const p = g.node(id)
    places[id] = { x: Math.round(p.x - p.width / 2), y: Math.round(p.y - p.height / 2) }
  }
  return places
}

/** The workflow's places, with any node that has none placed where a tidy layout would put it. */
export function placesOf(wf: WorkflowDraft): Record<string, { x: number; y: number }> {
  const kept = wf.layout ?? {}
  const ids = ['start', ...Object.keys(wf.nodes)]
  if (ids.every((id) => kept[id])) return kept
  const laid = tidy(wf)
  if (Object.keys(kept).length === 0) return laid
  // Nodes without a place go where the tidy layout puts them, below everything already placed.
  const bottom = Math.max(...Object.values(kept).map((p) => p.y)) + 120
  const top = Math.min(...ids.filter((id) => !kept[id]).map((id) => laid[id].y))
  return Object.fromEntries(ids.map((id) => [id, kept[id] ?? { x: laid[id].x, y: laid[id].y - top + bottom }]))
}
