/**
 * The workflow's fields as forms: the Start node (trigger, who may enter, schedule) and each node (its
 * type, what it tests or does, where each output leads, its limitation). The canvas's side panel shows
 * the selected node's; the form view shows them all, one card a node. Every change goes to the
 * workflow draft and is announced through `changed`; refusals are put beside the input at fault.
 */
import { DAYS, dateTimeInput, toInput, toStored } from '../../schedule'
import { h, labelled, options } from '../dom'
import { type FieldType, OPS_BY_TYPE, OP_LABELS, typed } from '../ops'
import { type Json, type Names, NODE_TYPES, type WorkflowDraft, TRIGGERS, addNode, armsOf, freeArmId, keepWinner, describe, freshNode, isCondition, removeNode } from './model'

export interface FormContext {
  wf: WorkflowDraft
  names: Omit<Names, 'fields'> & { fields: Array<{ key: string; label: string; type: FieldType }> }
  timeZone: string
  /** The node the last refusal named, outlined until the next save. */
  invalidNode: string | null
  /** After a change: `rebuild` when the form's shape changed (redraw it), otherwise only what shows it. */
  changed: (rebuild: boolean) => void
  /** After a node is removed from its card. */
  removed?: (id: string) => void
  /** Focuses the element with this id once the forms are drawn again (after a change that redraws them). */
  focus: (id: string) => void
  /** Node ids a new node must not take (the saved workflow's). */
  reserved: readonly string[]
}

const DEVICES: Array<[string, string]> = [['mobile', 'Mobile'], ['tablet', 'Tablet'], ['desktop', 'Desktop']]

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

/** An input whose refusal is read out with it: its error slot sits beside it, tied by aria-describedby. */
function withError(field: HTMLElement, errorId: string): HTMLElement {
  field.querySelector('input')?.setAttribute('aria-describedby', errorId)
  field.append(h('div', { class: 'error', id: errorId, role: 'alert' }))
  return field
}

/** The choices for where an output leads: the end, or any other node. */
function targets(ctx: FormContext, id: string): Array<readonly [string, string]> {
  const { wf, names } = ctx
  return [['', '(end)'], ...Object.keys(wf.nodes).filter((x) => x !== id).map((x) => [x, `${x} · ${describe(wf.nodes[x], names)}`] as const)]
}

/** The form view: every card, where Start leads and a button to add a node. */
export function formView(ctx: FormContext): DocumentFragment {
  const { wf, names } = ctx
  const out = document.createDocumentFragment()
  out.append(startCard(ctx), entryField(ctx))
  const ids = Object.keys(wf.nodes)
  for (const id of ids) out.append(nodeCard(ctx, id))
  const add = h('button', { type: 'button', class: 'secondary', id: 'wf-add-node', text: '+ Add node' })
  add.addEventListener('click', () => {
    const id = addNode(wf, 'showContent', names, undefined, ctx.reserved)
    ctx.changed(true)
    ctx.focus(`node-${id}-type`)
  })
  out.append(h('div', { class: 'row', style: 'gap:8px;margin-top:12px' }, add))
  return out
}

/** Where the Start node leads. */
export function entryField(ctx: FormContext): HTMLElement {
  const { wf, names } = ctx
  const ids = Object.keys(wf.nodes)
  const choices = ids.map((id) => [id, `${id} · ${describe(wf.nodes[id], names)}`] as const)
  return sel('wf-entry', 'After Start, go to', wf.nodes[wf.entry] ? choices : [['', '(no node yet)'], ...choices], wf.entry, (v) => ((wf.entry = v), ctx.changed(false)))
}

/** The Start node's card: trigger, who may enter, and the schedule. */
export function startCard(ctx: FormContext): HTMLElement {
  const { wf, names } = ctx
  const changed = ctx.changed
  const t = wf.start.trigger
  const box = h('fieldset', { class: `card node${ctx.invalidNode === 'start' ? ' invalid' : ''}`, id: 'node-start' }, h('legend', { text: 'Start' }))
  const row = h('div', { class: 'row' })
  row.append(sel('start-trigger', 'Trigger', TRIGGERS, t.type, (v) => {
    wf.start.trigger = v === 'custom' ? { type: v, name: 'signup' } : v.startsWith('segment') ? { type: v, segment: names.segments[0]?.id ?? '' } : { type: v }
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
    row.append(sel('start-content', 'The form of', [['', 'any content'], ...names.content.map((c) => [c.id, c.name] as const)], t.content ?? '', (v) => {
      if (v) t.content = v
      else delete t.content
      changed(false)
    }))
  }
  if (t.type === 'segmentEntered' || t.type === 'segmentLeft') row.append(sel('start-segment', 'Segment', names.segments.map((s) => [s.id, s.name] as const), t.segment, (v) => ((t.segment = v), changed(false))))
  const lim = wf.start.limitation
  const limKind = !lim ? '' : 'segment' in lim ? 'segment' : 'hasEmail'
  row.append(sel('start-limitation', 'Who may enter', [['', 'All contacts'], ['segment', 'Contacts in a segment'], ['hasEmail', 'Contacts with an email']], limKind, (v) => {
    wf.start.limitation = v === 'segment' ? { segment: names.segments[0]?.id ?? '' } : v === 'hasEmail' ? { hasEmail: true } : null
    changed(true)
  }))
  if (limKind === 'segment') row.append(sel('start-limitation-segment', 'Limiting segment', names.segments.map((s) => [s.id, s.name] as const), lim.segment, (v) => ((lim.segment = v), changed(false))))
  box.append(row, h('div', { class: 'error', id: 'node-start-error', role: 'alert' }), scheduleSection(ctx))
  return box
}

/** The Start node's schedule: a start, an end and weekly hours, each optional, in the site's time zone. */
function scheduleSection(ctx: FormContext): HTMLElement {
  const { wf } = ctx
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
    h('p', { class: 'hint', text: `In the site's time zone (${ctx.timeZone}). Left empty, the workflow runs at any time. A window to 00:00 runs until midnight; one that ends earlier than it begins runs past midnight.` }),
    h('div', { class: 'error', id: 'start-schedule-error', role: 'alert' }),
  )
  const dates = h('div', { class: 'row' })
  for (const [key, label] of [['start', 'Starts'], ['end', 'Ends']] as const) {
    const field = inp(`start-schedule-${key}`, label, dateTimeInput(schedule[key]), 'datetime-local', (v) => {
      if (v) schedule[key] = v
      else delete schedule[key]
      keep()
      ctx.changed(false)
    })
    dates.append(withError(field, `start-schedule-${key}-error`))
  }
  box.append(dates)
  ;(schedule.weekly ?? []).forEach((hours: Json, i: number) => box.append(weeklyWindow(ctx, schedule, hours, i, keep)))
  const add = h('button', { type: 'button', class: 'secondary', id: 'start-schedule-add', text: 'Add weekly hours' })
  add.addEventListener('click', () => {
    ;(schedule.weekly ??= []).push({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' })
    keep()
    ctx.changed(true)
    ctx.focus(`start-schedule-weekly-${schedule.weekly.length - 1}-mon`)
  })
  box.append(add)
  return box
}

function weeklyWindow(ctx: FormContext, schedule: Json, hours: Json, i: number, keep: () => void): HTMLElement {
  const id = `start-schedule-weekly-${i}`
  const box = h('fieldset', { class: 'hours', id, 'aria-describedby': `${id}-error` }, h('legend', { text: `Weekly hours ${i + 1}` }))
  const days = h('div', { class: 'days' })
  for (const [day, label] of DAYS) {
    const tick = h('input', { type: 'checkbox', id: `${id}-${day}` })
    tick.checked = hours.days.includes(day)
    tick.addEventListener('change', () => {
      hours.days = DAYS.map(([d]) => d).filter((d) => (d === day ? tick.checked : hours.days.includes(d)))
      keep()
      ctx.changed(false)
    })
    days.append(h('label', {}, tick, ` ${label}`))
  }
  const times = h(
    'div',
    { class: 'row' },
    inp(`${id}-from`, 'From', hours.from, 'time', (v) => ((hours.from = v), keep(), ctx.changed(false))),
    inp(`${id}-to`, 'To', toInput(hours.to), 'time', (v) => ((hours.to = toStored(v)), keep(), ctx.changed(false))),
  )
  const remove = h('button', { type: 'button', class: 'link', id: `${id}-remove`, text: `Remove weekly hours ${i + 1}` })
  remove.addEventListener('click', () => {
    schedule.weekly.splice(i, 1)
    keep()
    ctx.changed(true)
    ctx.focus('start-schedule-add')
  })
  box.append(days, times, h('div', { class: 'error', id: `${id}-error`, role: 'alert' }), remove)
  return box
}

function branch(ctx: FormContext, id: string, node: Json, key: 'yes' | 'no' | 'next', label: string): HTMLElement {
  return sel(`node-${id}-${key}`, label, targets(ctx, id), node[key] ?? '', (v) => {
    if (v) node[key] = v
    else delete node[key]
    ctx.changed(false)
  })
}

/** A node's card: its type, what it tests or does, where each output leads, its limitation, and Remove. */
export function nodeCard(ctx: FormContext, id: string): HTMLElement {
  const { wf, names } = ctx
  const changed = ctx.changed
  const node = wf.nodes[id]
  const statics = names.segments.filter((s) => s.type === 'static')
  const box = h('fieldset', { class: `card node${ctx.invalidNode === id ? ' invalid' : ''}`, id: `node-${id}` }, h('legend', { text: `Node ${id}` }))
  const row = h('div', { class: 'row' })
  row.append(sel(`node-${id}-type`, 'Type', NODE_TYPE_CHOICES, node.type, (v) => {
    wf.nodes[id] = freshNode(v, names, node)
    changed(true)
  }))
  switch (node.type) {
    case 'isInSegment':
      row.append(sel(`node-${id}-segment`, 'Segment', names.segments.map((s) => [s.id, s.name] as const), node.segment, (v) => ((node.segment = v), changed(false))))
      break
    case 'addToSegment':
    case 'removeFromSegment':
      row.append(sel(`node-${id}-segment`, 'Static segment', statics.map((s) => [s.id, s.name] as const), node.segment, (v) => ((node.segment = v), changed(false))))
      break
    case 'showContent':
      row.append(sel(`node-${id}-content`, 'Content', names.content.map((c) => [c.id, c.name] as const), node.content, (v) => ((node.content = v), changed(false))))
      break
    case 'hasField':
    case 'checkField':
    case 'setField': {
      row.append(sel(`node-${id}-field`, 'Field', names.fields.map((f) => [f.key, f.label] as const), node.field, (v) => ((node.field = v), changed(true))))
      const type = names.fields.find((f) => f.key === node.field)?.type ?? 'string'
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
  if (node.type === 'abTest' && node.winner) {
    // A winner picked on the test's report: every contact takes it. Undone by removing or renaming it here.
    row.append(h('p', { class: 'hint', id: `node-${id}-winner`, text: `Winner: ${node.winner}. Every contact takes it.` }))
  }
  if (isCondition(node)) {
    row.append(branch(ctx, id, node, 'yes', 'If yes, go to'), branch(ctx, id, node, 'no', 'If no, go to'))
  } else if (arms) {
    arms.forEach((arm, i) => {
      const key = `node-${id}-arm-${i}`
      row.append(inp(`${key}-id`, `${node.type === 'abTest' ? 'Variant' : 'Branch'} ${i + 1}: id`, arm.id, 'text', (v) => ((arm.id = v.trim()), keepWinner(node), changed(false))))
      row.append(inp(`${key}-weight`, 'Weight', arm.weight, 'number', (v) => ((arm.weight = Number(v)), changed(false))))
      row.append(sel(`${key}-next`, 'Then go to', targets(ctx, id), arm.next ?? '', (v) => {
        if (v) arm.next = v
        else delete arm.next
        changed(false)
      }))
    })
    if (arms.length < 5) {
      const add = h('button', { type: 'button', class: 'link', id: `node-${id}-add-arm`, text: node.type === 'abTest' ? 'Add a variant' : 'Add a branch' })
      add.addEventListener('click', () => (arms.push({ id: freeArmId(arms), weight: 1 }), changed(true)))
      row.append(add)
    }
    if (arms.length > 2) {
      const drop = h('button', { type: 'button', class: 'link', id: `node-${id}-drop-arm`, text: node.type === 'abTest' ? 'Remove the last variant' : 'Remove the last branch' })
      drop.addEventListener('click', () => (arms.pop(), keepWinner(node), changed(true)))
      row.append(drop)
    }
  } else row.append(branch(ctx, id, node, 'next', 'Then go to'))
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
    removeNode(wf, id)
    ctx.removed?.(id)
    changed(true)
  })
  box.append(row, h('div', { class: 'error', id: `node-${id}-error`, role: 'alert' }), remove)
  return box
}

const NODE_TYPE_CHOICES = NODE_TYPES.map((t) => [t.type, t.label] as const)

/** Where a refusal of the schedule goes, by its path in the workflow's JSON; the rest of the path in words. */
function scheduleSlot(path: string): { slot: string; rest: string } | undefined {
  const m = /^start\.schedule(?:\.(start|end)|\.weekly\[(\d+)\])?/.exec(path)
  if (!m) return undefined
  const slot = m[1] ? `start-schedule-${m[1]}-error` : m[2] !== undefined ? `start-schedule-weekly-${m[2]}-error` : 'start-schedule-error'
  return { slot, rest: path.slice(m[0].length).replace(/^\./, '') }
}

/**
 * Shows a refusal of node `node` in its card (already drawn with `invalid`): schedule problems beside their
 * inputs, the rest in the card's error slot; then focuses the first input at fault.
 */
export function showRefusal(node: string, message: string, issues: Array<{ path: string; message: string }>): void {
  const card = document.getElementById(`node-${node}`)
  if (!card) return
  const placed = new Set<{ path: string; message: string }>()
  for (const issue of issues) {
    const where = scheduleSlot(issue.path)
    const slot = where && document.getElementById(where.slot)
    if (!where || !slot) continue
    const words = where.rest ? `${where.rest}: ${issue.message}` : issue.message
    slot.textContent = slot.textContent ? `${slot.textContent}; ${words}` : words
    placed.add(issue)
  }
  const rest = issues.filter((i) => !placed.has(i))
  const slot = document.getElementById(`node-${node}-error`)!
  if (issues.length === 0) slot.textContent = message
  else if (rest.length > 0) slot.textContent = rest.map((i) => `${i.path}: ${i.message}`).join('; ')
  const first = [...card.querySelectorAll('.error')].find((el) => el.textContent)
  ;(first?.parentElement ?? card).querySelector<HTMLElement>('select, input')?.focus()
}
