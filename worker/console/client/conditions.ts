/**
 * The condition builder of dynamic segments: edits the tree in a hidden input as the marketer changes
 * the controls, and shows, as they type, how many contacts it holds and what it says in words.
 */
import {
  ACTIVITY_TYPES, type ActivityClause, type ActivityType, AMOUNT_MEASURES, type Clause, type Condition, DATE_MEASURE_OPS,
  type EventPredicate, type FieldClause, type FieldOp, GROUP_KINDS, type Group, type GroupKind, MEASURES,
  type EventProp, MEASURE_OPS, type MeasureName, SEGMENT_OPS, type SegmentClause, type SegmentOp, groupChildren, groupKind,
  isActivityClause, isDateMeasure, isDurationOp, isFieldClause, isGroup,
} from '../../conditions/types'
import { debounce, h, labelled, options, pageData, postJson } from './dom'
import { type FieldType, OPS_BY_TYPE, OP_LABELS, typed } from './ops'

interface BuilderData {
  fields: Array<{ key: string; label: string; type: FieldType }>
  segments: Array<{ id: string; name: string; type: string }>
  previewUrl: string
  self: string | null
}

/** What a test reads: its operator and the operand the inputs edit. */
type Operand = Pick<FieldClause, 'op' | 'value'>

/** The preview endpoint's answer, or its error. */
interface Preview {
  count: number
  summary: string
  error?: { message: string }
}

const data = pageData<BuilderData>('builder-data')
const hidden = document.getElementById('conditions') as HTMLInputElement
const root = document.getElementById('condition-builder')!
const live = document.getElementById('live')!
let tree: Group = parse(hidden.value)

function parse(text: string): Group {
  try {
    const t = JSON.parse(text)
    if (t && typeof t === 'object' && isGroup(t)) return t
  } catch {
    // start from an empty group
  }
  return { all: [] }
}

const fieldType = (key: string): FieldType => data.fields.find((f) => f.key === key)?.type ?? 'string'

const ACTIVITY_LABELS: Record<ActivityType, string> = {
  page_visit: 'Visited a page', purchase: 'Made a purchase', identify: 'Identified', custom: 'Did a custom event', content: 'Saw content',
}
const MEASURE_LABELS: Record<MeasureName, string> = {
  count: 'a number of times', sum: 'spending in total', avg: 'spending on average', first: 'for the first time', last: 'for the last time',
}
const SEGMENT_OP_LABELS: Record<SegmentOp, string> = { in: 'is in', notIn: 'is not in' }
/**
 * The event properties a `where` offers, in the order shown; the event name has its own input, and custom
 * `props.*` are left to the API.
 */
const WHERE_LABELS: Record<Exclude<EventProp, 'name' | `props.${string}`>, string> = {
  url: 'URL', title: 'title', referrer: 'referrer', currency: 'currency', amount: 'amount', contentId: 'content id', orderId: 'order id',
}
type WhereProp = keyof typeof WHERE_LABELS

/** A list of the engine's values as choices, each in words. */
const choices = <T extends string>(values: readonly T[], labels: Record<T, string>) => values.map((v) => [v, labels[v]] as const)
const opChoices = <T extends FieldOp>(ops: readonly T[]) => choices(ops, OP_LABELS)

/** Replaces a group's kind in place, keeping its children. */
function setKind(g: Group, kind: GroupKind) {
  const children = groupChildren(g)
  const byKind = g as Partial<Record<GroupKind, Condition[]>>
  delete byKind[groupKind(g)]
  byKind[kind] = children
}

function changed(rerender: boolean) {
  hidden.value = JSON.stringify(tree)
  if (rerender) render()
  refreshPreview()
}

const refreshPreview = debounce(async () => {
  live.textContent = 'Counting members…'
  try {
    const { ok, data: answer } = await postJson<Preview>(data.previewUrl, { conditions: tree, segment: data.self ?? undefined })
    live.textContent = ok ? `${answer.count} ${answer.count === 1 ? 'contact' : 'contacts'}: ${answer.summary}` : `These conditions cannot be saved yet: ${answer.error?.message ?? 'unknown problem'}`
  } catch {
    live.textContent = 'The member count could not be loaded.'
  }
}, 350)

function render() {
  const focused = document.activeElement?.id
  root.replaceChildren(group(tree, 'c', 0, null))
  if (focused) document.getElementById(focused)?.focus()
}

function group(g: Group, id: string, depth: number, remove: (() => void) | null): HTMLElement {
  const children = groupChildren(g)
  const kind = select(`${id}-kind`, `Contacts must meet ${depth ? 'this group: ' : ''}`, GROUP_KINDS.map((k) => [k, k] as const), groupKind(g), (v) => {
    setKind(g, v)
    changed(true)
  })
  const box = h('div', { class: 'group', role: 'group', 'aria-label': depth === 0 ? 'Conditions' : 'Group of conditions' })
  box.append(h('div', { class: 'row' }, kind, h('span', { class: 'hint shrink', text: 'of these:' })))
  children.forEach((child, i) => {
    const drop = () => {
      children.splice(i, 1)
      changed(true)
    }
    box.append(isGroup(child) ? group(child, `${id}-${i}`, depth + 1, drop) : clause(child, `${id}-${i}`, drop))
  })
  const add = (label: string, make: () => Condition) => {
    const b = h('button', { type: 'button', class: 'secondary', id: `${id}-add-${label.split(' ')[0].toLowerCase()}`, text: `+ ${label}` })
    b.addEventListener('click', () => {
      children.push(make())
      changed(true)
    })
    return b
  }
  const actions = h('div', { class: 'row', style: 'gap:6px' })
  actions.append(
    add('Field condition', () => ({ field: 'birthDate', op: 'between', value: ['', ''] })),
    add('Activity condition', () => ({ activity: 'page_visit' })),
  )
  if (data.segments.length > 0) actions.append(add('Segment condition', () => ({ segment: data.segments[0].id, op: 'in' })))
  if (depth < 3) actions.append(add('Group', () => ({ any: [] })))
  if (remove) actions.append(removeButton(`${id}-remove`, 'Remove group', remove))
  box.append(actions)
  return box
}

function removeButton(id: string, label: string, remove: () => void): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'link', id, text: label })
  b.addEventListener('click', remove)
  return b
}

function input(id: string, label: string, value: unknown, type: string, onInput: (v: string) => void): HTMLElement {
  const el = h('input', { type, value: value === undefined || value === null ? '' : String(value) })
  el.addEventListener('input', () => onInput(el.value))
  return labelled(id, label, el)
}

/** A labelled select over `items`; the value it reports is always one of theirs. */
function select<T extends string>(id: string, label: string, items: ReadonlyArray<readonly [T, string]>, value: string, onChange: (v: T) => void): HTMLElement {
  const el = options(h('select'), items, value)
  el.addEventListener('change', () => onChange(el.value as T))
  return labelled(id, label, el)
}

function clause(c: Clause, id: string, remove: () => void): HTMLElement {
  const row = h('div', { class: 'clause', role: 'group', 'aria-label': 'Condition' })
  if (isFieldClause(c)) fieldClause(c, id, row)
  else if (isActivityClause(c)) activityClause(c, id, row)
  else segmentClause(c, id, row)
  row.append(removeButton(`${id}-remove`, 'Remove', remove))
  return row
}

/** The inputs for the operand of a test (a field clause, a `where`, a measure), fitted to its operator. */
function valueInputs(c: Operand, id: string, row: HTMLElement, type: FieldType) {
  const op = c.op
  const inputType = type === 'number' ? 'number' : type === 'date' || type === 'timestamp' ? 'date' : 'text'
  if (op === 'exists' || op === 'notExists') delete c.value
  else if (op === 'between') {
    const pair = Array.isArray(c.value) ? c.value : ['', '']
    c.value = pair
    row.append(input(`${id}-from`, 'From', pair[0], inputType, (v) => ((pair[0] = typed(type, v)), changed(false))))
    row.append(input(`${id}-to`, 'To', pair[1], inputType, (v) => ((pair[1] = typed(type, v)), changed(false))))
  } else if (op === 'in' || op === 'notIn') {
    const list = Array.isArray(c.value) ? c.value : []
    c.value = list
    row.append(input(`${id}-list`, 'Values (comma separated)', list.join(', '), 'text', (v) => ((c.value = v.split(',').map((x) => typed(type, x.trim())).filter((x) => x !== '' && x !== undefined)), changed(false))))
  } else if (isDurationOp(op)) {
    row.append(input(`${id}-duration`, 'Duration (e.g. 30d, 12h)', typeof c.value === 'string' ? c.value : '30d', 'text', (v) => ((c.value = v.trim()), changed(false))))
    if (typeof c.value !== 'string') c.value = '30d'
  } else if (type === 'boolean') {
    if (typeof c.value !== 'boolean') c.value = true
    row.append(select(`${id}-bool`, 'Value', [['true', 'true'], ['false', 'false']], String(c.value), (v) => ((c.value = v === 'true'), changed(false))))
  } else {
    if (Array.isArray(c.value)) c.value = ''
    row.append(input(`${id}-value`, 'Value', c.value, inputType, (v) => ((c.value = typed(type, v)), changed(false))))
  }
}

function fieldClause(c: FieldClause, id: string, row: HTMLElement) {
  const type = fieldType(c.field)
  const ops = OPS_BY_TYPE[type]
  if (!ops.includes(c.op)) c.op = ops[0]
  row.append(select(`${id}-field`, 'Field', data.fields.map((f) => [f.key, f.label] as const), c.field, (v) => {
    c.field = v
    delete c.value
    changed(true)
  }))
  row.append(select(`${id}-op`, 'Test', opChoices(ops), c.op, (v) => {
    c.op = v
    changed(true)
  }))
  valueInputs(c, id, row, type)
}

function activityClause(c: ActivityClause, id: string, row: HTMLElement) {
  row.append(select(`${id}-activity`, 'Activity', choices(ACTIVITY_TYPES, ACTIVITY_LABELS), c.activity, (v) => {
    c.activity = v
    if (v !== 'purchase') for (const m of AMOUNT_MEASURES) delete c[m]
    changed(true)
  }))
  if (c.activity === 'custom' || c.activity === 'content') {
    row.append(input(`${id}-name`, c.activity === 'custom' ? 'Event name' : 'Action (shown, clicked, closed)', c.name ?? '', 'text', (v) => {
      if (v.trim()) c.name = v.trim()
      else delete c.name
      changed(false)
    }))
  }
  const where = Array.isArray(c.where) ? c.where[0] : c.where
  const whereChoices = [['', 'any'] as const, ...Object.entries(WHERE_LABELS) as Array<[WhereProp, string]>]
  row.append(select(`${id}-where`, 'Where', whereChoices, where?.field ?? '', (v) => {
    if (!v) delete c.where
    else c.where = { field: v, op: v === 'amount' ? 'gte' : 'contains', value: v === 'amount' ? 0 : '' }
    changed(true)
  }))
  if (where) {
    const type: FieldType = where.field === 'amount' ? 'number' : 'string'
    const sub: EventPredicate = c.where = { ...where }
    row.append(select(`${id}-where-op`, 'Test', opChoices(OPS_BY_TYPE[type]), sub.op, (v) => ((sub.op = v), changed(true))))
    valueInputs(sub, `${id}-where`, row, type)
  }
  const measure = MEASURES.find((m) => c[m]) ?? ''
  const measures = c.activity === 'purchase' ? MEASURES : MEASURES.filter((m) => !(AMOUNT_MEASURES as readonly MeasureName[]).includes(m))
  row.append(select(`${id}-measure`, 'How', [['', 'at least once'], ...choices(measures, MEASURE_LABELS)], measure, (v) => {
    for (const m of MEASURES) delete c[m]
    if (v && isDateMeasure(v)) c[v] = { op: 'withinLast', value: '30d' }
    else if (v) c[v] = { op: 'gte', value: v === 'count' ? 3 : 100 }
    changed(true)
  }))
  if (measure && isDateMeasure(measure)) {
    const spec = c[measure]!
    row.append(select(`${id}-measure-op`, 'Test', opChoices(DATE_MEASURE_OPS), spec.op, (v) => ((spec.op = v), changed(true))))
    valueInputs(spec, `${id}-measure`, row, 'date')
  } else if (measure) {
    const spec = c[measure]!
    row.append(select(`${id}-measure-op`, 'Test', opChoices(MEASURE_OPS), spec.op, (v) => ((spec.op = v), changed(true))))
    valueInputs(spec, `${id}-measure`, row, 'number')
  }
  row.append(input(`${id}-within`, 'In the last (e.g. 30d; empty: as far back as kept)', c.within ?? '', 'text', (v) => {
    if (v.trim()) c.within = v.trim()
    else delete c.within
    changed(false)
  }))
}

function segmentClause(c: SegmentClause, id: string, row: HTMLElement) {
  row.append(select(`${id}-segment`, 'Segment', data.segments.map((s) => [s.id, s.name] as const), c.segment, (v) => ((c.segment = v), changed(false))))
  row.append(select(`${id}-membership`, 'Membership', choices(SEGMENT_OPS, SEGMENT_OP_LABELS), c.op, (v) => ((c.op = v), changed(false))))
}

render()
changed(false)
