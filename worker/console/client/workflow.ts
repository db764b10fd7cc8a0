/**
 * The workflow builder: a form for the Start node (with its schedule) and each node, and a diagram of the
 * graph (SVG) that is redrawn as the form changes. Saving sends the workflow to the console; a refusal is
 * shown beside the node at fault, in the diagram too, and a schedule's beside its start, end or window.
 */
import { DAYS, dateTimeInput, describeSchedule, toInput, toStored } from '../schedule'
import { h, labelled, options, pageData, postJson } from './dom'
import { type FieldType, OPS_BY_TYPE, OP_LABELS, typed } from './ops'

type Json = Record<string, any>

interface Passed {
  last7: number
  last30: number
}

interface Data {
  fields: Array<{ key: string; label: string; type: FieldType }>
  segments: Array<{ id: string; name: string; type: string }>
  content: Array<{ id: string; name: string }>
  workflow: Json
  /** The site's IANA time zone, which schedules are read in. */
  timeZone: string
  /** The live view of a saved workflow: contacts that entered it, reached each node and left by each branch. */
  flow: null | { start: Passed; nodes: Record<string, Passed & { branches: Record<string, Passed> }> }
  saveUrl: string
  listUrl: string
}

const data = pageData<Data>('workflow-data')
const wf: Json = structuredClone(data.workflow)
// A new workflow's first node shows the site's first content until the marketer picks another.
for (const n of Object.values(wf.nodes) as Json[]) if (n.type === 'showContent' && !n.content && data.content[0]) n.content = data.content[0].id
const form = document.getElementById('workflow-form') as HTMLFormElement
const diagram = document.getElementById('diagram')!
const banner = document.getElementById('workflow-error')!
let invalidNode: string | null = null

const NODE_TYPES: Array<[string, string]> = [
  ['isInSegment', 'Is in segment'], ['checkField', 'Check field'], ['hasField', 'Has field'], ['showContent', 'Show content'],
  ['addToSegment', 'Add to segment'], ['removeFromSegment', 'Remove from segment'], ['setField', 'Set field'],
  ['checkDevice', 'Check device'], ['abTest', 'A/B test'], ['split', 'Split'],
]
const DEVICES: Array<[string, string]> = [['mobile', 'Mobile'], ['tablet', 'Tablet'], ['desktop', 'Desktop']]
/** The branches of an A/B test (variants) or a split (branches), each with its weight and where it goes. */
const armsOf = (n: Json): Json[] | undefined => (n.type === 'abTest' ? n.variants : n.type === 'split' ? n.branches : undefined)
/** Every node a node leads to, with the label its arrow carries and the branch it is (for the live view). */
function exits(n: Json): Array<[to: string, label: string, branch: string]> {
  const out: Array<[string, string, string]> = []
  if (n.yes) out.push([n.yes, 'yes', 'yes'])
  if (n.no) out.push([n.no, 'no', 'no'])
  if (n.next) out.push([n.next, '', 'next'])
  for (const arm of armsOf(n) ?? []) if (arm.next) out.push([arm.next, arm.name ?? arm.id, arm.id])
  return out
}

/** The live view's window: the last 7 or the last 30 days, as the radio buttons above the diagram say. */
let flowDays: 'last7' | 'last30' = 'last7'
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=flow-days]')) {
  radio.addEventListener('change', () => {
    flowDays = radio.value === '30' ? 'last30' : 'last7'
    renderDiagram()
  })
}
const count = (n: number) => `${n.toLocaleString('en')} contact${n === 1 ? '' : 's'}`
/** Contacts that reached a node ('start' for entering the workflow), or left it by a branch; undefined without a live view. */
function passed(node: string, branch?: string): number | undefined {
  const flow = data.flow
  if (!flow) return undefined
  if (node === 'start') return flow.start[flowDays]
  const n = flow.nodes[node]
  if (branch === undefined) return n ? n[flowDays] : 0
  return n?.branches[branch]?.[flowDays] ?? 0
}
const TRIGGERS: Array<[string, string]> = [
  ['page_visit', 'Page visit'], ['purchase', 'Purchase'], ['identify', 'Identify'], ['custom', 'Custom event'], ['contentSubmitted', 'A form sent'],
  ['segmentEntered', 'Entering a segment'], ['segmentLeft', 'Leaving a segment'],
]
const segmentName = (id: string) => data.segments.find((s) => s.id === id)?.name ?? id
const contentName = (id: string) => data.content.find((c) => c.id === id)?.name ?? id
const fieldLabel = (key: string) => data.fields.find((f) => f.key === key)?.label ?? key
const statics = () => data.segments.filter((s) => s.type === 'static')
const isCondition = (n: Json) => n.type === 'isInSegment' || n.type === 'checkField' || n.type === 'hasField' || n.type === 'checkDevice'

function sel(id: string, label: string, items: ReadonlyArray<readonly [string, string]>, value: string, onChange: (v: string) => void): HTMLElement {
  const el = options(h('select'), items, value)
  el.addEventListener('change', () => onChange(el.value))
  return labelled(id, label, el)
}

function inp(id: string, label: string, value: unknown, type: string, onInput: (v: string) => void): HTMLElement {
  const el = h('input', { type, value: value === undefined || value === null ? '' : String(value) })
  el.addEventListener('input', () => onInput(el.value))
  return labelled(id, label, el)
}

/** Redraws after a change: the whole form when its shape changed, the diagram always. */
function changed(rebuild: boolean) {
  if (rebuild) renderForm()
  renderDiagram()
}

function renderForm() {
  const focused = document.activeElement?.id
  form.replaceChildren()
  form.append(inp('wf-name', 'Name', wf.name, 'text', (v) => ((wf.name = v), changed(false))))
  form.append(startSection())
  const ids = Object.keys(wf.nodes)
  form.append(sel('wf-entry', 'After Start, go to', ids.map((id) => [id, `${id} · ${describe(wf.nodes[id])}`] as const), wf.entry, (v) => ((wf.entry = v), changed(false))))
  for (const id of ids) form.append(nodeCard(id))
  const add = h('button', { type: 'button', class: 'secondary', id: 'wf-add-node', text: '+ Add node' })
  add.addEventListener('click', () => {
    let n = ids.length + 1
    while (wf.nodes[`n${n}`]) n++
    wf.nodes[`n${n}`] = { type: 'showContent', content: data.content[0]?.id ?? '' }
    changed(true)
    document.getElementById(`node-n${n}-type`)?.focus()
  })
  const save = h('button', { type: 'submit', id: 'wf-save', text: wf.id ? 'Save workflow' : 'Create workflow' })
  form.append(h('div', { class: 'row', style: 'gap:8px;margin-top:12px' }, add, save))
  if (focused) document.getElementById(focused)?.focus()
}

function startSection(): HTMLElement {
  const t = wf.start.trigger
  const box = h('fieldset', { class: `card node${invalidNode === 'start' ? ' invalid' : ''}`, id: 'node-start' }, h('legend', { text: 'Start' }))
  const row = h('div', { class: 'row' })
  row.append(sel('start-trigger', 'Trigger', TRIGGERS, t.type, (v) => {
    wf.start.trigger = v === 'custom' ? { type: v, name: 'signup' } : v.startsWith('segment') ? { type: v, segment: data.segments[0]?.id ?? '' } : { type: v }
    changed(true)
  }))
  if (t.type === 'page_visit') {
    row.append(sel('start-url-op', 'URL', [['', 'any'], ['eq', 'is'], ['startsWith', 'starts with'], ['contains', 'contains']], t.url?.op ?? '', (v) => {
      if (v) t.url = { op: v, value: t.url?.value ?? '/' }
      else delete t.url
      changed(true)
    }))
    if (t.url) row.append(inp('start-url', 'URL text', t.url.value, 'text', (v) => ((t.url.value = v), changed(false))))
    row.append(inp('start-exclude', 'Except URLs containing (comma separated)', (t.exclude ?? []).map((x: Json) => x.value).join(', '), 'text', (v) => {
      const parts = v.split(',').map((x) => x.trim()).filter(Boolean)
      if (parts.length) t.exclude = parts.map((value) => ({ op: 'contains', value }))
      else delete t.exclude
      changed(false)
    }))
  }
  if (t.type === 'custom') row.append(inp('start-custom', 'Event name', t.name, 'text', (v) => ((t.name = v.trim()), changed(false))))
  if (t.type === 'contentSubmitted') {
    row.append(sel('start-content', 'The form of', [['', 'any content'], ...data.content.map((c) => [c.id, c.name] as const)], t.content ?? '', (v) => {
      if (v) t.content = v
      else delete t.content
      changed(false)
    }))
  }
  if (t.type === 'segmentEntered' || t.type === 'segmentLeft') row.append(sel('start-segment', 'Segment', data.segments.map((s) => [s.id, s.name] as const), t.segment, (v) => ((t.segment = v), changed(false))))
  const lim = wf.start.limitation
  const limKind = !lim ? '' : 'segment' in lim ? 'segment' : 'hasEmail'
  row.append(sel('start-limitation', 'Who may enter', [['', 'All contacts'], ['segment', 'Contacts in a segment'], ['hasEmail', 'Contacts with an email']], limKind, (v) => {
    wf.start.limitation = v === 'segment' ? { segment: data.segments[0]?.id ?? '' } : v === 'hasEmail' ? { hasEmail: true } : null
    changed(true)
  }))
  if (limKind === 'segment') row.append(sel('start-limitation-segment', 'Limiting segment', data.segments.map((s) => [s.id, s.name] as const), lim.segment, (v) => ((lim.segment = v), changed(false))))
  box.append(row, h('div', { class: 'error', id: 'node-start-error', role: 'alert' }), scheduleSection())
  return box
}

/** An input whose refusal is read out with it: its error slot sits beside it, tied by aria-describedby. */
function withError(field: HTMLElement, errorId: string): HTMLElement {
  field.querySelector('input')?.setAttribute('aria-describedby', errorId)
  field.append(h('div', { class: 'error', id: errorId, role: 'alert' }))
  return field
}

/** The Start node's schedule: a start, an end and weekly hours, each optional, in the site's time zone. */
function scheduleSection(): HTMLElement {
  const schedule: Json = wf.start.schedule ?? {}
  const keep = () => {
    if (schedule.weekly?.length === 0) delete schedule.weekly
    if (Object.keys(schedule).length > 0) wf.start.schedule = schedule
    else delete wf.start.schedule
  }
  const box = h(
    'fieldset',
    { class: 'schedule', id: 'start-schedule' },
    h('legend', { text: 'Schedule' }),
    h('p', { class: 'hint', text: `In the site's time zone (${data.timeZone}). Left empty, the workflow runs at any time. A window to 00:00 runs until midnight; one that ends earlier than it begins runs past midnight.` }),
    h('div', { class: 'error', id: 'start-schedule-error', role: 'alert' }),
  )
  const dates = h('div', { class: 'row' })
  for (const [key, label] of [['start', 'Starts'], ['end', 'Ends']] as const) {
    const field = inp(`start-schedule-${key}`, label, dateTimeInput(schedule[key]), 'datetime-local', (v) => {
      if (v) schedule[key] = v
      else delete schedule[key]
      keep()
      changed(false)
    })
    dates.append(withError(field, `start-schedule-${key}-error`))
  }
  box.append(dates)
  ;(schedule.weekly ?? []).forEach((hours: Json, i: number) => box.append(weeklyWindow(schedule, hours, i, keep)))
  const add = h('button', { type: 'button', class: 'secondary', id: 'start-schedule-add', text: 'Add weekly hours' })
  add.addEventListener('click', () => {
    ;(schedule.weekly ??= []).push({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' })
    keep()
    changed(true)
    document.getElementById(`start-schedule-weekly-${schedule.weekly.length - 1}-mon`)?.focus()
  })
  box.append(add)
  return box
}

function weeklyWindow(schedule: Json, hours: Json, i: number, keep: () => void): HTMLElement {
  const id = `start-schedule-weekly-${i}`
  const box = h('fieldset', { class: 'hours', id, 'aria-describedby': `${id}-error` }, h('legend', { text: `Weekly hours ${i + 1}` }))
  const days = h('div', { class: 'days' })
  for (const [day, label] of DAYS) {
    const tick = h('input', { type: 'checkbox', id: `${id}-${day}` })
    tick.checked = hours.days.includes(day)
    tick.addEventListener('change', () => {
      hours.days = DAYS.map(([d]) => d).filter((d) => (d === day ? tick.checked : hours.days.includes(d)))
      keep()
      changed(false)
    })
    days.append(h('label', {}, tick, ` ${label}`))
  }
  const times = h(
    'div',
    { class: 'row' },
    inp(`${id}-from`, 'From', hours.from, 'time', (v) => ((hours.from = v), keep(), changed(false))),
    inp(`${id}-to`, 'To', toInput(hours.to), 'time', (v) => ((hours.to = toStored(v)), keep(), changed(false))),
  )
  const remove = h('button', { type: 'button', class: 'link', id: `${id}-remove`, text: `Remove weekly hours ${i + 1}` })
  remove.addEventListener('click', () => {
    schedule.weekly.splice(i, 1)
    keep()
    changed(true)
    document.getElementById('start-schedule-add')?.focus()
  })
  box.append(days, times, h('div', { class: 'error', id: `${id}-error`, role: 'alert' }), remove)
  return box
}

/** Where the builder shows a refusal of the schedule, by its path in the workflow's JSON; the rest of the path in words. */
function scheduleSlot(path: string): { slot: string; rest: string } | undefined {
  const m = /^start\.schedule(?:\.(start|end)|\.weekly\[(\d+)\])?/.exec(path)
  if (!m) return undefined
  const slot = m[1] ? `start-schedule-${m[1]}-error` : m[2] !== undefined ? `start-schedule-weekly-${m[2]}-error` : 'start-schedule-error'
  return { slot, rest: path.slice(m[0].length).replace(/^\./, '') }
}

function targets(id: string): Array<readonly [string, string]> {
  return [['', '(end)'], ...Object.keys(wf.nodes).filter((x) => x !== id).map((x) => [x, `${x} · ${describe(wf.nodes[x])}`] as const)]
}

function branch(id: string, node: Json, key: 'yes' | 'no' | 'next', label: string): HTMLElement {
  return sel(`node-${id}-${key}`, label, targets(id), node[key] ?? '', (v) => {
    if (v) node[key] = v
    else delete node[key]
    changed(false)
  })
}

function nodeCard(id: string): HTMLElement {
  const node = wf.nodes[id]
  const box = h('fieldset', { class: `card node${invalidNode === id ? ' invalid' : ''}`, id: `node-${id}` }, h('legend', { text: `Node ${id}` }))
  const row = h('div', { class: 'row' })
  row.append(sel(`node-${id}-type`, 'Type', NODE_TYPES, node.type, (v) => {
    const keep = { yes: node.yes, no: node.no, next: node.next ?? node.yes, limitation: node.limitation }
    const fresh: Json = { type: v, limitation: keep.limitation }
    if (v === 'isInSegment') Object.assign(fresh, { segment: data.segments[0]?.id ?? '', yes: keep.yes, no: keep.no })
    if (v === 'checkField') Object.assign(fresh, { field: 'country', op: 'eq', value: '', yes: keep.yes, no: keep.no })
    if (v === 'hasField') Object.assign(fresh, { field: 'email', yes: keep.yes, no: keep.no })
    if (v === 'showContent') Object.assign(fresh, { content: data.content[0]?.id ?? '', next: keep.next })
    if (v === 'addToSegment' || v === 'removeFromSegment') Object.assign(fresh, { segment: statics()[0]?.id ?? '', next: keep.next })
    if (v === 'setField') Object.assign(fresh, { field: 'newsletter', value: 'subscribed', next: keep.next })
    if (v === 'checkDevice') Object.assign(fresh, { devices: ['mobile'], yes: keep.yes, no: keep.no })
    if (v === 'abTest') Object.assign(fresh, { variants: [{ id: 'a', weight: 1, next: keep.next }, { id: 'b', weight: 1 }] })
    if (v === 'split') Object.assign(fresh, { branches: [{ id: 'a', weight: 1, next: keep.next }, { id: 'b', weight: 1 }] })
    for (const k of Object.keys(fresh)) if (fresh[k] === undefined) delete fresh[k]
    wf.nodes[id] = fresh
    changed(true)
  }))
  switch (node.type) {
    case 'isInSegment':
      row.append(sel(`node-${id}-segment`, 'Segment', data.segments.map((s) => [s.id, s.name] as const), node.segment, (v) => ((node.segment = v), changed(false))))
      break
    case 'addToSegment':
    case 'removeFromSegment':
      row.append(sel(`node-${id}-segment`, 'Static segment', statics().map((s) => [s.id, s.name] as const), node.segment, (v) => ((node.segment = v), changed(false))))
      break
    case 'showContent':
      row.append(sel(`node-${id}-content`, 'Content', data.content.map((c) => [c.id, c.name] as const), node.content, (v) => ((node.content = v), changed(false))))
      break
    case 'hasField':
    case 'checkField':
    case 'setField': {
      row.append(sel(`node-${id}-field`, 'Field', data.fields.map((f) => [f.key, f.label] as const), node.field, (v) => ((node.field = v), changed(true))))
      const type = data.fields.find((f) => f.key === node.field)?.type ?? 'string'
      if (node.type === 'checkField') {
        const ops = OPS_BY_TYPE[type]
        if (!ops.includes(node.op)) node.op = ops[0]
        row.append(sel(`node-${id}-op`, 'Test', ops.map((o) => [o, OP_LABELS[o]] as const), node.op, (v) => ((node.op = v), changed(true))))
        if (node.op !== 'exists' && node.op !== 'notExists') {
          row.append(inp(`node-${id}-value`, 'Value', Array.isArray(node.value) ? node.value.join(', ') : node.value, 'text', (v) => {
            node.value = node.op === 'between' || node.op === 'in' || node.op === 'notIn' ? v.split(',').map((x) => typed(type, x.trim())) : typed(type, v)
            changed(false)
          }))
        } else delete node.value
      }
      if (node.type === 'setField') row.append(inp(`node-${id}-value`, 'New value (empty clears it)', node.value, 'text', (v) => ((node.value = v === '' ? null : typed(type, v)), changed(false))))
      break
    }
    case 'checkDevice':
      row.append(sel(`node-${id}-devices`, 'Device', [...DEVICES, ['mobile,tablet', 'Mobile or tablet']], node.devices.join(','), (v) => ((node.devices = v.split(',')), changed(false))))
      break
  }
  const arms = armsOf(node)
  if (isCondition(node)) {
    row.append(branch(id, node, 'yes', 'If yes, go to'), branch(id, node, 'no', 'If no, go to'))
  } else if (arms) {
    arms.forEach((arm, i) => {
      const key = `node-${id}-arm-${i}`
      row.append(inp(`${key}-id`, `${node.type === 'abTest' ? 'Variant' : 'Branch'} ${i + 1}: id`, arm.id, 'text', (v) => ((arm.id = v.trim()), changed(false))))
      row.append(inp(`${key}-weight`, 'Weight', arm.weight, 'number', (v) => ((arm.weight = Number(v)), changed(false))))
      row.append(sel(`${key}-next`, 'Then go to', targets(id), arm.next ?? '', (v) => {
        if (v) arm.next = v
        else delete arm.next
        changed(false)
      }))
    })
    if (arms.length < 5) {
      const add = h('button', { type: 'button', class: 'link', id: `node-${id}-add-arm`, text: node.type === 'abTest' ? 'Add a variant' : 'Add a branch' })
      add.addEventListener('click', () => (arms.push({ id: String.fromCharCode(97 + arms.length), weight: 1 }), changed(true)))
      row.append(add)
    }
    if (arms.length > 2) {
      const drop = h('button', { type: 'button', class: 'link', id: `node-${id}-drop-arm`, text: node.type === 'abTest' ? 'Remove the last variant' : 'Remove the last branch' })
      drop.addEventListener('click', () => (arms.pop(), changed(true)))
      row.append(drop)
    }
  } else row.append(branch(id, node, 'next', 'Then go to'))
  const lim = node.limitation ?? {}
  const setLim = (k: string, v: unknown) => {
    if (v === '' || v === undefined) delete lim[k]
    else lim[k] = v
    if (Object.keys(lim).length) node.limitation = lim
    else delete node.limitation
    changed(false)
  }
  row.append(inp(`node-${id}-max`, 'At most, per contact (times)', lim.maxPerContact, 'number', (v) => setLim('maxPerContact', v === '' ? '' : Number(v))))
  row.append(inp(`node-${id}-cooldown`, 'Not again within (e.g. 1d)', lim.cooldown, 'text', (v) => setLim('cooldown', v.trim())))
  const remove = h('button', { type: 'button', class: 'link', id: `node-${id}-remove`, text: `Remove node ${id}` })
  remove.addEventListener('click', () => {
    delete wf.nodes[id]
    for (const n of Object.values(wf.nodes) as Json[]) {
      for (const k of ['yes', 'no', 'next']) if (n[k] === id) delete n[k]
      for (const arm of armsOf(n) ?? []) if (arm.next === id) delete arm.next
    }
    if (wf.entry === id) wf.entry = Object.keys(wf.nodes)[0] ?? ''
    changed(true)
  })
  box.append(row, h('div', { class: 'error', id: `node-${id}-error`, role: 'alert' }), remove)
  return box
}

function describe(n: Json): string {
  switch (n.type) {
    case 'isInSegment':
      return `In ${segmentName(n.segment)}?`
    case 'checkField':
      return `${fieldLabel(n.field)} ${OP_LABELS[n.op] ?? n.op} ${Array.isArray(n.value) ? n.value.join('–') : n.value ?? ''}?`.replace(/ \?$/, '?')
    case 'hasField':
      return `Has ${fieldLabel(n.field)}?`
    case 'showContent':
      return `Show ${contentName(n.content)}`
    case 'addToSegment':
      return `Add to ${segmentName(n.segment)}`
    case 'removeFromSegment':
      return `Remove from ${segmentName(n.segment)}`
    case 'setField':
      return `Set ${fieldLabel(n.field)}`
    case 'checkDevice':
      return `On ${n.devices.join(' or ')}?`
    case 'abTest':
      return `A/B test (${n.variants.length})`
    case 'split':
      return `Split (${n.branches.length})`
    default:
      return n.type
  }
}

const SVG = 'http://www.w3.org/2000/svg'
function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  if (text !== undefined) el.textContent = text
  return el
}

/** Lays the graph out in columns by distance from Start, and draws boxes and labelled arrows. */
function renderDiagram() {
  const W = 190, H = 54, GX = 60, GY = 24
  const level = new Map<string, number>([['start', 0]])
  const queue = [wf.entry]
  if (wf.nodes[wf.entry]) level.set(wf.entry, 1)
  while (queue.length) {
    const id = queue.shift()!
    const n = wf.nodes[id]
    if (!n) continue
    for (const [to] of exits(n)) {
      if (to && wf.nodes[to] && !level.has(to)) {
        level.set(to, level.get(id)! + 1)
        queue.push(to)
      }
    }
  }
  const deepest = Math.max(...level.values())
  for (const id of Object.keys(wf.nodes)) if (!level.has(id)) level.set(id, deepest + 1)
  const columns = new Map<number, string[]>()
  for (const [id, l] of level) columns.set(l, [...(columns.get(l) ?? []), id])
  const pos = new Map<string, { x: number; y: number }>()
  for (const [l, ids] of columns) ids.forEach((id, i) => pos.set(id, { x: 10 + l * (W + GX), y: 10 + i * (H + GY) }))
  const width = 20 + (Math.max(...columns.keys()) + 1) * (W + GX)
  const height = 20 + Math.max(...[...columns.values()].map((c) => c.length)) * (H + GY)
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, 'aria-hidden': 'true' })
  const defs = svg('defs', {})
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' })
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#555' }))
  defs.append(marker)
  root.append(defs)
  const edge = (from: string, to: string, label: string, through?: number) => {
    const a = pos.get(from), b = pos.get(to)
    if (!a || !b) return
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2
    root.append(svg('path', { d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`, fill: 'none', stroke: '#555', 'stroke-width': 1.5, 'marker-end': 'url(#arrow)' }))
    // The live view writes how many contacts took the branch under its label.
    const text = [label, through === undefined ? '' : through.toLocaleString('en')].filter(Boolean).join(' · ')
    if (text) root.append(svg('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle', 'font-size': 12, fill: label === 'no' ? '#b3261e' : '#0d652d', 'data-branch': `${from}:${label}` }, text))
  }
  if (wf.nodes[wf.entry]) edge('start', wf.entry, '')
  for (const [id, n] of Object.entries(wf.nodes) as Array<[string, Json]>) for (const [to, label, branch] of exits(n)) edge(id, to, label, passed(id, branch))
  const box = (id: string, title: string, sub: string, kind: string) => {
    const p = pos.get(id)!
    const fill = kind === 'start' ? '#1c1c1e' : kind === 'condition' ? '#eef3fd' : '#e6f4ea'
    root.append(svg('rect', { x: p.x, y: p.y, width: W, height: H, rx: 10, fill, stroke: invalidNode === id ? '#b3261e' : '#8e8e93', 'stroke-width': invalidNode === id ? 3 : 1 }))
    root.append(svg('text', { x: p.x + 10, y: p.y + 21, 'font-size': 13, 'font-weight': 700, fill: kind === 'start' ? '#fff' : '#1c1c1e' }, title.slice(0, 26)))
    const through = passed(id)
    root.append(svg('text', { x: p.x + 10, y: p.y + 40, 'font-size': 12, fill: kind === 'start' ? '#ddd' : '#333' }, sub.slice(0, through === undefined ? 28 : 20)))
    if (through !== undefined) {
      root.append(svg('text', { x: p.x + W - 8, y: p.y + 40, 'text-anchor': 'end', 'font-size': 12, 'font-weight': 700, fill: kind === 'start' ? '#fff' : '#1c1c1e', 'data-passed': id }, through.toLocaleString('en')))
    }
  }
  const trigger = TRIGGERS.find(([t]) => t === wf.start.trigger.type)?.[1] ?? wf.start.trigger.type
  box('start', 'Start', wf.start.schedule ? `${trigger}, scheduled` : trigger, 'start')
  for (const [id, n] of Object.entries(wf.nodes) as Array<[string, Json]>) box(id, describe(n), id, isCondition(n) ? 'condition' : 'action')
  diagram.replaceChildren(root)
  const when = wf.start.schedule ? `, ${describeSchedule(wf.start.schedule)}` : ''
  const live = (id: string) => (passed(id) === undefined ? '' : `, ${count(passed(id)!)} ${flowDays === 'last7' ? 'in the last 7 days' : 'in the last 30 days'}`)
  diagram.setAttribute('aria-label', `Diagram: Start (${trigger}${when}${live('start')}) then ${Object.entries(wf.nodes).map(([id, n]) => `${id}: ${describe(n as Json)}${live(id)}`).join('; ')}`)
}

form.addEventListener('submit', async (e) => {
  e.preventDefault()
  banner.hidden = true
  for (const el of form.querySelectorAll('.error')) el.textContent = ''
  invalidNode = null
  const { ok, data: answer } = await postJson<Json>(data.saveUrl, { id: wf.id, name: wf.name, start: wf.start, entry: wf.entry, nodes: wf.nodes })
  if (ok) {
    location.href = answer.redirect
    return
  }
  const message = answer.error?.message ?? 'The workflow could not be saved.'
  const node = answer.error?.node as string | undefined
  if (node && document.getElementById(`node-${node}`)) {
    invalidNode = node
    renderForm()
    renderDiagram()
    const issues = (answer.error?.issues ?? []) as Array<{ path: string; message: string }>
    const shown = showBeside(issues)
    const rest = issues.filter((i) => !shown.has(i))
    const slot = document.getElementById(`node-${node}-error`)!
    if (issues.length === 0) slot.textContent = message
    else if (rest.length > 0) slot.textContent = rest.map((i) => `${i.path}: ${i.message}`).join('; ')
    const first = [...form.querySelectorAll('.error')].find((el) => el.textContent)
    ;(first?.parentElement ?? document.getElementById(`node-${node}`))?.querySelector<HTMLElement>('select, input')?.focus()
  } else {
    banner.textContent = message
    banner.hidden = false
    banner.focus()
  }
})

/** Puts each refusal of the schedule beside its input; the issues it placed. */
function showBeside(issues: Array<{ path: string; message: string }>): Set<{ path: string; message: string }> {
  const placed = new Set<{ path: string; message: string }>()
  for (const issue of issues) {
    const where = scheduleSlot(issue.path)
    const slot = where && document.getElementById(where.slot)
    if (!where || !slot) continue
    const words = where.rest ? `${where.rest}: ${issue.message}` : issue.message
    slot.textContent = slot.textContent ? `${slot.textContent}; ${words}` : words
    placed.add(issue)
  }
  return placed
}

renderForm()
renderDiagram()
