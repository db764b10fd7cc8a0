/**
 * The workflow page: a canvas (with a toolbox and a side panel) or a form view of the same workflow,
 * saving and activating it, outlining the node a refusal names, the live view's window, and a prompt
 * before leaving with unsaved changes. The draft (`wf`) is the one truth both views edit.
 */
import { type ReactFlowInstance } from '@xyflow/react'
import '@xyflow/react/dist/base.css'
import { render } from 'preact'
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { pageData, postJson } from '../dom'
import { type FieldType } from '../ops'
import { Canvas, type Flow, passedOf } from './canvas'
import { type FormContext, formView, nodeCard, showRefusal, startCard, entryField } from './form'
import { type Json, NODE_TYPES, type WorkflowDraft, addNode, describe, outputs, removeNode, saved, triggerLabel } from './model'
import { NODE_WIDTH, nodeHeight, placesOf, tidy } from './tidy'
import './workflow.css'

interface Data {
  fields: Array<{ key: string; label: string; type: FieldType }>
  segments: Array<{ id: string; name: string; type: string }>
  content: Array<{ id: string; name: string }>
  workflow: WorkflowDraft
  /** The site's IANA time zone, which schedules are read in. */
  timeZone: string
  /** The live view of a saved workflow: contacts that entered it, reached each node and left by each branch. */
  flow: Flow
  saveUrl: string
  /** The workflow's page, with `:id` for a workflow saved for the first time. */
  pageUrl: string
}

const data = pageData<Data>('workflow-data')
const wf: WorkflowDraft = structuredClone(data.workflow)
const names = { segments: data.segments, content: data.content, fields: data.fields }
// Every node gets a place at once (a tidy one where the workflow has none), so nothing moves when one is added.
wf.layout = placesOf(wf)
/** The saved workflow's node ids, which a new node never takes (they carry its live view and refusals). */
const reserved = Object.keys(data.workflow.nodes)
const count = (n: number) => `${n.toLocaleString('en')} contact${n === 1 ? '' : 's'}`

/** What was last saved (or loaded), to tell whether leaving would lose changes. */
let savedJson = JSON.stringify(saved(wf))
const dirty = () => JSON.stringify(saved(wf)) !== savedJson
window.addEventListener('beforeunload', (e) => {
  if (!dirty()) return
  e.preventDefault()
  e.returnValue = ''
})

/** Words for the whole workflow: read by screen readers for the canvas, and shown in the form view. */
function summary(flow: Flow, days: 'last7' | 'last30'): string {
  const live = (id: string) => {
    const n = passedOf(flow, days, id)
    return n === undefined ? '' : `, ${count(n)} ${days === 'last7' ? 'in the last 7 days' : 'in the last 30 days'}`
  }
  const arrows = (n: Json) => {
    const outs = outputs(n).filter((o) => o.to).map((o) => (o.handle === 'next' ? `then ${o.to}` : `${o.label} to ${o.to}`))
    return outs.length ? ` (${outs.join(', ')})` : ''
  }
  const nodes = Object.entries(wf.nodes).map(([id, n]) => `${id}: ${describe(n, names)}${arrows(n)}${live(id)}`)
  return `Start (${triggerLabel(wf)}${live('start')}) then ${wf.nodes[wf.entry] ? wf.entry : 'nothing'}. ${nodes.join('; ')}`
}

function Toolbox(p: { onAdd: (type: string, at?: { x: number; y: number }) => void; flow: () => ReactFlowInstance | undefined }) {
  const [ghost, setGhost] = useState<null | { label: string; x: number; y: number }>(null)
  const drag = useRef<null | { type: string; label: string; x: number; y: number; moved: boolean }>(null)
  return (
    <aside class="wf-toolbox" aria-labelledby="wf-toolbox-title">
      <h2 id="wf-toolbox-title">Toolbox</h2>
      <p class="hint">Drag a node onto the canvas, or press it to add it beside the selected node.</p>
      {(['condition', 'action', 'branching'] as const).map((kind) => (
        <div class="wf-tools" role="group" aria-label={kind === 'condition' ? 'Conditions' : kind === 'action' ? 'Actions' : 'Tests and splits'} key={kind}>
          <h3>{kind === 'condition' ? 'Conditions' : kind === 'action' ? 'Actions' : 'Tests and splits'}</h3>
          {NODE_TYPES.filter((t) => t.kind === kind).map((t) => (
            <button
              type="button"
              class={`wf-tool ${kind}`}
              data-type={t.type}
              key={t.type}
              title={t.hint}
              aria-description={t.hint}
              onPointerDown={(e) => {
                if (e.button !== 0) return
                drag.current = { type: t.type, label: t.label, x: e.clientX, y: e.clientY, moved: false }
                ;(e.currentTarget as HTMLElement).setPointerCapture(e.pointerId)
              }}
              onPointerMove={(e) => {
                const d = drag.current
                if (!d) return
                if (!d.moved && Math.hypot(e.clientX - d.x, e.clientY - d.y) < 6) return
                d.moved = true
                setGhost({ label: d.label, x: e.clientX, y: e.clientY })
              }}
              onPointerUp={(e) => {
                const d = drag.current
                drag.current = null
                setGhost(null)
                if (!d?.moved) return
                lastDragEnd = Date.now()
                // Dropped: added where it fell, when it fell on the canvas.
                const over = document.elementFromPoint(e.clientX, e.clientY)?.closest('.react-flow')
                const flow = p.flow()
                if (!over || !flow) return
                const at = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY })
                p.onAdd(d.type, { x: at.x - NODE_WIDTH / 2, y: at.y - 30 })
              }}
              onPointerCancel={() => ((drag.current = null), setGhost(null))}
              onClick={(e) => {
                // A drag ends in a click on the button it started from: only a press without a drag adds here.
                if ((e as MouseEvent).detail > 0 && Date.now() - lastDragEnd < 300) return
                p.onAdd(t.type)
              }}
            >
              {t.label}
            </button>
          ))}
        </div>
      ))}
      {ghost && (
        <div class="wf-ghost" aria-hidden="true" style={{ left: `${ghost.x}px`, top: `${ghost.y}px` }}>
          {ghost.label}
        </div>
      )}
    </aside>
  )
}

/** When the last drag from the toolbox ended: the click that follows it is not a press. */
let lastDragEnd = 0

/** A DOM subtree drawn by the forms (form.ts), redrawn when `version` changes, keeping the focus. */
function Forms(p: { draw: () => Node | null; version: unknown; after?: () => void; id: string; label: string }) {
  const box = useRef<HTMLDivElement>(null)
  // Drawn as part of the render (before the browser paints), so the focus moves with it.
  useLayoutEffect(() => {
    const el = box.current
    if (!el) return
    const focused = document.activeElement?.id
    const drawn = p.draw()
    el.replaceChildren(...(drawn ? [drawn] : []))
    if (focused && el.contains(document.getElementById(focused))) document.getElementById(focused)?.focus()
    p.after?.()
  }, [p.version])
  return <div ref={box} id={p.id} role="group" aria-label={p.label} />
}

function App() {
  const [view, setView] = useState<'canvas' | 'form'>(location.hash === '#form' ? 'form' : 'canvas')
  const [version, setVersion] = useState(0)
  const [formVersion, setFormVersion] = useState(0)
  const [selected, setSelected] = useState<string | null>(null)
  const [invalidNode, setInvalidNode] = useState<string | null>(null)
  const [days, setDays] = useState<'last7' | 'last30'>('last7')
  const [banner, setBanner] = useState('')
  const [status, setStatus] = useState('')
  const [busy, setBusy] = useState(false)
  const flow = useRef<ReactFlowInstance | undefined>(undefined)
  /** The field to focus once the forms are drawn again (a node added from the toolbox by the keyboard). */
  const focusNext = useRef<string | null>(null)
  const saving = useRef(false)
  /** The latest `save`, for the header's buttons, which are bound once. */
  const saveRef = useRef<(status?: 'active' | 'paused') => Promise<void>>(async () => {})
  const refusal = useRef<null | { node: string; message: string; issues: Array<{ path: string; message: string }> }>(null)

  /** Redraws after a change to the draft: the canvas always, the forms when `rebuild`. */
  const redraw = (rebuild: boolean) => {
    setVersion((v) => v + 1)
    if (rebuild) setFormVersion((v) => v + 1)
  }
  const changed = (rebuild: boolean) => {
    redraw(rebuild)
    setStatus('')
  }
  const ctx = (): FormContext => ({
    wf,
    names,
    timeZone: data.timeZone,
    invalidNode,
    changed,
    removed: (id) => forget([id]),
    focus: (id) => (focusNext.current = id),
    reserved,
  })

  const add = (type: string, at?: { x: number; y: number }) => {
    const place = at ?? freePlace(selected)
    const id = addNode(wf, type, names, place, reserved)
    setSelected(id)
    changed(true)
    if (!at) {
      // From the keyboard: the panel's first field takes the focus, and the canvas shows the new node.
      focusNext.current = `node-${id}-type`
      const zoom = flow.current?.getZoom() ?? 1
      requestAnimationFrame(() => flow.current?.setCenter(place.x + NODE_WIDTH / 2, place.y + nodeHeight(2) / 2, { zoom, duration: 200 }))
    }
  }
  /** A place beside the selected node (or below everything), free of other nodes. */
  const freePlace = (beside: string | null) => {
    const places = placesOf(wf)
    const from = places[beside ?? ''] ?? { x: places.start.x, y: Math.max(...Object.values(places).map((p) => p.y)) + 40 }
    const at = { x: from.x + (beside ? NODE_WIDTH + 90 : 0), y: from.y + (beside ? 0 : nodeHeight(2)) }
    while (Object.values(places).some((p) => Math.abs(p.x - at.x) < NODE_WIDTH && Math.abs(p.y - at.y) < nodeHeight(2))) at.y += nodeHeight(2) + 24
    return at
  }
  const remove = (ids: string[]) => {
    for (const id of ids) removeNode(wf, id)
    changed(true)
    forget(ids)
  }
  /**
   * After nodes go: their selection and refusal go with them, and the focus they had goes to the Start
   * node (on the canvas) or to + Add node (in the form view) rather than to the page.
   */
  const forget = (ids: string[]) => {
    if (ids.includes(selected ?? '')) setSelected(null)
    if (ids.includes(invalidNode ?? '')) {
      setInvalidNode(null)
      refusal.current = null
    }
    // Where the focus is (the removed node on the canvas, or its card's Remove link) is about to go.
    const focused = document.activeElement
    const lost = !focused || focused === document.body || ids.some((id) => focused.closest(`.react-flow__node[data-id="${CSS.escape(id)}"], #node-${CSS.escape(id)}`))
    if (lost) requestAnimationFrame(() => document.querySelector<HTMLElement>('.react-flow__node[data-id="start"], #wf-add-node')?.focus())
  }
  const tidyUp = () => {
    wf.layout = tidy(wf)
    changed(false)
    requestAnimationFrame(() => flow.current?.fitView({ maxZoom: 1, padding: 0.15 }))
  }

  const save = async (status?: 'active' | 'paused') => {
    // One save at a time: a double click on Save must not create a new workflow twice.
    if (saving.current) return
    saving.current = true
    setBusy(true)
    setBanner('')
    setInvalidNode(null)
    refusal.current = null
    // What is sent is what becomes saved: a change made while the request is out stays unsaved.
    const sent = structuredClone(saved(wf))
    const { ok, data: answer } = await postJson<Json>(data.saveUrl, { ...sent, status }).finally(() => {
      saving.current = false
      setBusy(false)
    })
    if (ok) {
      wf.id = answer.id
      wf.status = answer.status
      sent.id = answer.id
      savedJson = JSON.stringify(sent)
      const url = data.pageUrl.replace(':id', encodeURIComponent(answer.id))
      if (location.pathname !== url) history.replaceState(null, '', url + location.hash)
      const heading = document.querySelector('.page-header h1')
      if (heading) heading.textContent = sent.name
      document.title = `${sent.name} · Segue`
      setStatus(answer.status === 'active' ? 'Saved. The workflow is active.' : 'Saved. The workflow is paused.')
      redraw(true)
      return
    }
    const message = answer.error?.message ?? 'The workflow could not be saved.'
    const node = answer.error?.node as string | undefined
    if (node && (node === 'start' || wf.nodes[node])) {
      refusal.current = { node, message, issues: answer.error?.issues ?? [] }
      setInvalidNode(node)
      setSelected(node)
      setFormVersion((v) => v + 1)
      setVersion((v) => v + 1)
    } else {
      setBanner(message)
    }
  }
  saveRef.current = save
  // The header's buttons are the server's; they act on this draft.
  useEffect(() => {
    document.getElementById('wf-save')?.addEventListener('click', () => void saveRef.current())
    document.getElementById('wf-status-action')?.addEventListener('click', () => void saveRef.current(wf.status === 'active' ? 'paused' : 'active'))
  }, [])
  useEffect(() => {
    const badge = document.getElementById('wf-status')
    const action = document.getElementById('wf-status-action')
    for (const b of document.querySelectorAll<HTMLButtonElement>('#wf-save, #wf-status-action')) b.disabled = busy
    if (badge) {
      badge.textContent = !wf.id ? 'New' : wf.status === 'active' ? 'Active' : 'Paused'
      badge.className = `badge ${!wf.id ? 'muted' : wf.status === 'active' ? 'active ok' : 'paused warn'}`
    }
    if (action) action.textContent = wf.status === 'active' ? 'Save and pause' : 'Save and activate'
  })
  const afterForms = () => {
    const r = refusal.current
    if (r) showRefusal(r.node, r.message, r.issues)
    if (focusNext.current) document.getElementById(focusNext.current)?.focus()
    focusNext.current = null
  }
  const setViewTo = (v: 'canvas' | 'form') => {
    setView(v)
    history.replaceState(null, '', v === 'form' ? '#form' : location.pathname)
    setFormVersion((x) => x + 1)
  }

  return (
    <>
      <div class="wf-bar">
        <div class="wf-name">
          <label for="wf-name">Name</label>
          <input id="wf-name" value={wf.name} onInput={(e) => ((wf.name = (e.currentTarget as HTMLInputElement).value), changed(false))} autocomplete="off" />
        </div>
        <div class="wf-views" role="group" aria-label="View">
          <button type="button" id="wf-view-canvas" class={view === 'canvas' ? '' : 'secondary'} aria-pressed={view === 'canvas'} onClick={() => setViewTo('canvas')}>Canvas</button>
          <button type="button" id="wf-view-form" class={view === 'form' ? '' : 'secondary'} aria-pressed={view === 'form'} onClick={() => setViewTo('form')}>Form view</button>
        </div>
        {data.flow && (
          <fieldset class="row flow-window" id="flow-window">
            <legend>Contacts who passed (estimates)</legend>
            <label><input type="radio" name="flow-days" value="7" checked={days === 'last7'} onChange={() => setDays('last7')} /> Last 7 days</label>
            <label><input type="radio" name="flow-days" value="30" checked={days === 'last30'} onChange={() => setDays('last30')} /> Last 30 days</label>
          </fieldset>
        )}
      </div>
      <p class="hint" role="status" id="wf-saved">{status}</p>
      <div class="alert" role="alert" id="workflow-error" hidden={!banner}>{banner}</div>
      <p class="sr-only" id="workflow-summary">{summary(data.flow, days)}</p>
      {view === 'canvas' ? (
        <div class="wf-editor">
          <Toolbox onAdd={add} flow={() => flow.current} />
          <div class="wf-canvas" role="region" aria-label="Canvas" aria-describedby="workflow-summary">
            <Canvas
              wf={wf}
              names={names}
              version={version}
              selected={selected}
              invalidNode={invalidNode}
              flow={data.flow}
              days={days}
              onSelect={setSelected}
              onChange={changed}
              onRemove={remove}
              onReady={(f) => (flow.current = f as unknown as ReactFlowInstance)}
            />
            <button type="button" class="secondary wf-tidy" id="wf-tidy" onClick={tidyUp}>Tidy up</button>
          </div>
          <aside class="wf-panel" aria-labelledby="wf-panel-title">
            <h2 id="wf-panel-title">{selected === 'start' ? 'Start' : selected && wf.nodes[selected] ? `Node ${selected}` : 'Selected node'}</h2>
            <Forms
              id="wf-panel"
              label="The selected node's fields"
              version={`${formVersion}:${selected}:${invalidNode}`}
              after={afterForms}
              draw={() => {
                if (selected === 'start') {
                  const box = document.createDocumentFragment()
                  box.append(startCard(ctx()), entryField(ctx()))
                  return box
                }
                if (selected && wf.nodes[selected]) return nodeCard(ctx(), selected)
                const hint = document.createElement('p')
                hint.className = 'hint'
                hint.textContent = 'Select a node on the canvas (click it, or Tab to it and press Enter) to edit it here. Add nodes from the toolbox; connect an output by dragging it to a node, or choose where it goes here.'
                return hint
              }}
            />
          </aside>
        </div>
      ) : (
        <form
          id="workflow-form"
          class="wf-form"
          onSubmit={(e) => {
            e.preventDefault()
            void save()
          }}
        >
          <Forms id="wf-form-fields" label="The workflow's nodes" version={`${formVersion}:${invalidNode}`} after={afterForms} draw={() => formView(ctx())} />
        </form>
      )}
    </>
  )
}

render(<App />, document.getElementById('workflow-app')!)
