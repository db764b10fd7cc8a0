/**
 * The workflow canvas, drawn with React Flow (xyflow) on Preact: the Start node and every node, an arrow
 * for each connected output, labelled with its branch and, in the live view, how many contacts took it.
 * Nodes are dragged to move them, an output is dragged to a node's input to connect it, a node or an
 * arrow is selected by a click (or Tab then Enter) and removed with Delete or Backspace; the wheel, a
 * pinch or the controls zoom, and dragging the background pans. Every change goes to the draft through
 * the callbacks; the draft stays the one truth, and the canvas redraws from it.
 */
import {
  BaseEdge, Background, Controls, EdgeLabelRenderer, type Edge, type EdgeProps, Handle, type Node, type NodeChange, type NodeProps,
  Position, ReactFlow, type ReactFlowInstance, type EdgeChange, getBezierPath, applyNodeChanges, MarkerType, useUpdateNodeInternals,
} from '@xyflow/react'
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { type Names, type WorkflowDraft, connect, describe, disconnect, kindOf, outputs, triggerLabel } from './model'
import { NODE_WIDTH, nodeHeight, placesOf } from './tidy'

export interface Passed {
  last7: number
  last30: number
}
export type Flow = null | { start: Passed; nodes: Record<string, Passed & { branches: Record<string, Passed> }> }

interface StepData extends Record<string, unknown> {
  title: string
  sub: string
  kind: string
  invalid: boolean
  passed?: number
  outs: Array<{ handle: string; label: string }>
}
type StepNode = Node<StepData, 'step'>
interface BranchData extends Record<string, unknown> {
  label: string
  tone: string
  passed?: number
  from: string
}
type BranchEdge = Edge<BranchData, 'branch'>

export interface CanvasProps {
  wf: WorkflowDraft
  names: Names
  /** Bumped by every change to the draft, so the canvas redraws. */
  version: number
  selected: string | null
  invalidNode: string | null
  flow: Flow
  days: 'last7' | 'last30'
  onSelect: (id: string | null) => void
  /** The draft changed: `rebuild` when the side panel must be drawn again. */
  onChange: (rebuild: boolean) => void
  onRemove: (ids: string[]) => void
  onReady: (flow: ReactFlowInstance<StepNode, BranchEdge>) => void
}

/** Contacts that reached a node ('start': entered), or left it by a branch; undefined without a live view. */
export function passedOf(flow: Flow, days: 'last7' | 'last30', node: string, branch?: string): number | undefined {
  if (!flow) return undefined
  if (node === 'start') return flow.start[days]
  const n = flow.nodes[node]
  if (branch === undefined) return n ? n[days] : 0
  return n?.branches[branch]?.[days] ?? 0
}

const number = (n: number) => n.toLocaleString('en')

function StepNodeView({ id, data }: NodeProps<StepNode>) {
  // What a node shows changes its size and where its outputs sit: React Flow measures its handles again.
  const measure = useUpdateNodeInternals()
  useEffect(() => measure(id), [id, data.title, data.sub, data.passed, data.outs.map((o) => `${o.handle}:${o.label}`).join()])
  return (
    <div class={`wf-node ${data.kind}${data.invalid ? ' invalid' : ''}`} data-node={id}>
      {id !== 'start' && <Handle type="target" position={Position.Left} className="wf-in" />}
      <div class="wf-node-title">{data.title}</div>
      <div class="wf-node-sub">
        <span>{data.sub}</span>
        {data.passed !== undefined && <span class="wf-count" data-passed={id} title="Contacts who reached it">{number(data.passed)}</span>}
      </div>
      {data.outs.map((o) => (
        <div class={`wf-out ${o.handle}`} key={o.handle}>
          {o.label && <span>{o.label}</span>}
          <Handle type="source" position={Position.Right} id={o.handle} className="wf-handle" />
        </div>
      ))}
    </div>
  )
}

function BranchEdgeView({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, markerEnd, data, selected }: EdgeProps<BranchEdge>) {
  const [path, x, y] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition })
  const text = [data?.label, data?.passed === undefined ? '' : number(data.passed)].filter(Boolean).join(' · ')
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={selected ? 'wf-edge selected' : 'wf-edge'} />
      {text && (
        <EdgeLabelRenderer>
          <div class={`wf-edge-label ${data?.tone ?? ''}`} style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)` }} data-branch={`${data?.from}:${data?.label}`}>
            {text}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  )
}

const nodeTypes = { step: StepNodeView }
const edgeTypes = { branch: BranchEdgeView }

/**
 * The draft as React Flow nodes. A node that did not change keeps its object, so React Flow keeps what it
 * measured; one whose outputs changed is measured again (its handles moved).
 */
function nodesOf(p: CanvasProps, before: StepNode[]): StepNode[] {
  const places = placesOf(p.wf)
  // A node added without a place (from the form view) keeps the one it is drawn at.
  p.wf.layout = places
  const old = new Map(before.map((n) => [n.id, n]))
  const start: StepNode = {
    id: 'start',
    type: 'step',
    position: places.start,
    deletable: false,
    selected: p.selected === 'start',
    ariaLabel: `Start: ${triggerLabel(p.wf)}`,
    data: { title: 'Start', sub: triggerLabel(p.wf) + (p.wf.start.schedule ? ', scheduled' : ''), kind: 'start', invalid: p.invalidNode === 'start', passed: passedOf(p.flow, p.days, 'start'), outs: [{ handle: 'next', label: '' }] },
  }
  const nodes = Object.entries(p.wf.nodes).map(([id, n]): StepNode => ({
    id,
    type: 'step',
    position: places[id],
    selected: p.selected === id,
    ariaLabel: `${describe(n, p.names)}, node ${id}`,
    data: { title: describe(n, p.names), sub: id, kind: kindOf(n), invalid: p.invalidNode === id, passed: passedOf(p.flow, p.days, id), outs: outputs(n).map((o) => ({ handle: o.handle, label: o.label })) },
  }))
  // Drawn at their expected size until React Flow has measured them, so a node added is visible (and can take
  // the focus) at once.
  for (const n of [start, ...nodes]) Object.assign(n, { initialWidth: NODE_WIDTH, initialHeight: nodeHeight(n.data.outs.length) })
  return [start, ...nodes].map((n) => {
    const was = old.get(n.id)
    if (!was) return n
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
    if (same(was.data, n.data) && same(was.position, n.position) && was.selected === n.selected && was.ariaLabel === n.ariaLabel) return was
    return same(was.data.outs, n.data.outs) && was.measured ? { ...n, measured: was.measured } : n
  })
}

function edgesOf(p: CanvasProps): BranchEdge[] {
  const marker = { type: MarkerType.ArrowClosed, width: 18, height: 18 }
  const edges: BranchEdge[] = []
  if (p.wf.nodes[p.wf.entry]) {
    edges.push({ id: 'start|next', source: 'start', sourceHandle: 'next', target: p.wf.entry, type: 'branch', deletable: false, markerEnd: marker, data: { label: '', tone: '', from: 'start' } })
  }
  for (const [id, n] of Object.entries(p.wf.nodes)) {
    for (const o of outputs(n)) {
      if (!o.to || !p.wf.nodes[o.to]) continue
      const tone = o.handle === 'yes' ? 'yes' : o.handle === 'no' ? 'no' : ''
      edges.push({ id: `${id}|${o.handle}`, source: id, sourceHandle: o.handle, target: o.to, type: 'branch', markerEnd: marker, ariaLabel: `${id} ${o.label || 'next'} to ${o.to}`, data: { label: o.label, tone, from: id, passed: passedOf(p.flow, p.days, id, o.branch) } })
    }
  }
  return edges
}

export function Canvas(p: CanvasProps) {
  const [nodes, setNodes] = useState<StepNode[]>(() => nodesOf(p, []))
  // Arrows are the draft's; only which are selected is the canvas's own.
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set())
  const edges = useMemo(() => edgesOf(p).map((e) => (picked.has(e.id) ? { ...e, selected: true } : e)), [p.version, p.flow, p.days, picked])
  // Redraw from the draft whenever it, the selection, the refusal or the live view's window changes, in the
  // same render (before paint), so React Flow never acts on a selection the panel no longer shows.
  useLayoutEffect(() => setNodes((before) => nodesOf(p, before)), [p.version, p.selected, p.invalidNode, p.days])
  const moved = useRef(false)

  const onNodesChange = (changes: NodeChange<StepNode>[]) => {
    const kept = changes.filter((c) => c.type !== 'remove' && c.type !== 'select')
    let selected: string | undefined
    for (const c of changes) {
      // Selecting is the canvas's to report; unselecting only by a click on the background (onPaneClick),
      // so a node the draft just selected (one added from the toolbox) stays selected.
      if (c.type === 'select' && c.selected) selected = c.id
      if (c.type === 'position' && c.position) {
        ;(p.wf.layout ??= {})[c.id] = { x: Math.round(c.position.x), y: Math.round(c.position.y) }
        moved.current = true
      }
      // A drag ends, or an arrow key moved the node: the draft's places changed.
      if (c.type === 'position' && !c.dragging && moved.current) {
        moved.current = false
        p.onChange(false)
      }
    }
    if (kept.length) setNodes((before) => applyNodeChanges(kept, before))
    // Always reported: React Flow may call a handler from an earlier render, whose p.selected is stale.
    if (selected !== undefined) p.onSelect(selected)
  }

  const onEdgesChange = (changes: EdgeChange<BranchEdge>[]) => {
    const next = new Set(picked)
    let removed = false
    for (const c of changes) {
      if (c.type === 'select') {
        if (c.selected) next.add(c.id)
        else next.delete(c.id)
      }
      if (c.type === 'remove') {
        const [from, handle] = c.id.split('|')
        disconnect(p.wf, from, handle)
        next.delete(c.id)
        removed = true
      }
    }
    setPicked(next)
    if (removed) p.onChange(true)
  }

  /**
   * Delete or Backspace outside a field removes the selected arrows, or else the selected node (never Start),
   * wherever the focus is on the page (a clicked arrow leaves it on the page's body).
   */
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Delete' && e.key !== 'Backspace') return
    if ((e.target as HTMLElement).closest?.('input, select, textarea, button, a, [contenteditable]')) return
    if (picked.size > 0) {
      e.preventDefault()
      for (const id of picked) {
        const [from, handle] = id.split('|')
        disconnect(p.wf, from, handle)
      }
      setPicked(new Set())
      p.onChange(true)
    } else if (p.selected && p.selected !== 'start') {
      e.preventDefault()
      p.onRemove([p.selected])
    }
  }

  const keys = useRef(onKeyDown)
  keys.current = onKeyDown
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keys.current(e)
    document.addEventListener('keydown', listener)
    return () => document.removeEventListener('keydown', listener)
  }, [])

  return (
    <ReactFlow<StepNode, BranchEdge>
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      edgeTypes={edgeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onConnect={(c) => {
        if (c.target && connect(p.wf, c.source, c.sourceHandle, c.target)) p.onChange(true)
      }}
      onPaneClick={() => p.onSelect(null)}
      isValidConnection={(c) => c.target !== 'start' && c.source !== c.target}
      onInit={(flow) => {
        p.onReady(flow)
        // Fitted once the canvas has its size and the nodes theirs.
        requestAnimationFrame(() => void flow.fitView({ maxZoom: 1, padding: 0.15 }))
      }}
      // Delete and Backspace are handled here, on the key's press, rather than by React Flow's key state,
      // which a press and release inside one render batch can miss.
      deleteKeyCode={null}
      minZoom={0.2}
      maxZoom={2}
      ariaLabelConfig={{ 'node.a11yDescription.default': 'Press Enter or Space to select it and edit it in the panel; Delete removes it; arrow keys move it.' }}
    >
      <Background gap={20} />
      <Controls showInteractive={false} />
    </ReactFlow>
  )
}
