/**
 * The condition builder of dynamic segments: edits the tree in a hidden input as the marketer changes
 * the controls, and shows, as they type, how many contacts it holds and what it says in words.
 */
import { debounce, h, labelled, options, pageData, postJson } from './dom'
import { type FieldType, OPS_BY_TYPE, OP_LABELS, typed } from './ops'

type Json = Record<string, any>

interface BuilderData {
  fields: Array<{ key: string; label: string; type: FieldType }>
  segments: Array<{ id: string; name: string; type: string }>
  previewUrl: string
  self: string | null
}

const data = pageData<BuilderData>('builder-data')
const hidden = document.getElementById('conditions') as HTMLInputElement
const root = document.getElementById('condition-builder')!
const live = document.getElementById('live')!
let tree: Json = parse(hidden.value)

function parse(text: string): Json {
  try {
    const t = JSON.parse(text)
    if (t && typeof t === 'object' && ('all' in t || 'any' in t || 'none' in t)) return t
  } catch {
    // start from an empty group
  }
  return { all: [] }
}

const kindOf = (g: Json) => ('all' in g ? 'all' : 'any' in g ? 'any' : 'none')
const isGroup = (n: Json) => 'all' in n || 'any' in n || 'none' in n
const fieldType = (key: string): FieldType => data.fields.find((f) => f.key === key)?.type ?? 'string'
const DURATION_OPS = ['withinLast', 'olderThan']
const MEASURES: Array<[string, string]> = [['', 'at least once'], ['count', 'a number of times'], ['sum', 'spending in total'], ['avg', 'spending on average'], ['first', 'for the first time'], ['last', 'for the last time']]
const ACTIVITIES: Array<[string, string]> = [['page_visit', 'Visited a page'], ['purchase', 'Made a purchase'], ['identify', 'Identified'], ['custom', 'Did a custom event'], ['content', 'Saw content']]
const WHERE: Array<[string, string]> = [['', 'any'], ['url', 'URL'], ['title', 'title'], ['referrer', 'referrer'], ['currency', 'currency'], ['amount', 'amount'], ['contentId', 'content id'], ['orderId', 'order id']]

function changed(rerender: boolean) {
  hidden.value = JSON.stringify(tree)
  if (rerender) render()
  refreshPreview()
}

const refreshPreview = debounce(async () => {
  live.textContent = 'Counting members…'
  try {
    const { ok, data: answer } = await postJson<Json>(data.previewUrl, { conditions: tree, segment: data.self ?? undefined })
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

function group(g: Json, id: string, depth: number, remove: (() => void) | null): HTMLElement {
  const kind = kindOf(g)
  const children: Json[] = g[kind]
  const select = options(h('select'), [['all', 'all'], ['any', 'any'], ['none', 'none']], kind)
  select.addEventListener('change', () => {
    const list = g[kind]
    delete g[kind]
    g[select.value] = list
    changed(true)
  })
  const box = h('div', { class: 'group', role: 'group', 'aria-label': depth === 0 ? 'Conditions' : 'Group of conditions' })
  box.append(h('div', { class: 'row' }, labelled(`${id}-kind`, `Contacts must meet ${depth ? 'this group: ' : ''}`, select), h('span', { class: 'hint shrink', text: 'of these:' })))
  children.forEach((child, i) => {
    const drop = () => {
      children.splice(i, 1)
      changed(true)
    }
    box.append(isGroup(child) ? group(child, `${id}-${i}`, depth + 1, drop) : clause(child, `${id}-${i}`, drop))
  })
  const add = (label: string, make: () => Json) => {
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

function select(id: string, label: string, items: ReadonlyArray<readonly [string, string]>, value: string, onChange: (v: string) => void): HTMLElement {
  const el = options(h('select'), items, value)
  el.addEventListener('change', () => onChange(el.value))
  return labelled(id, label, el)
}

function clause(c: Json, id: string, remove: () => void): HTMLElement {
  const row = h('div', { class: 'clause', role: 'group', 'aria-label': 'Condition' })
  if ('field' in c) fieldClause(c, id, row)
  else if ('activity' in c) activityClause(c, id, row)
  else segmentClause(c, id, row)
  row.append(removeButton(`${id}-remove`, 'Remove', remove))
  return row
}

function valueInputs(c: Json, id: string, row: HTMLElement, type: FieldType | 'text', key = 'value') {
  const op = c.op
  const inputType = type === 'number' ? 'number' : type === 'date' || type === 'timestamp' ? 'date' : 'text'
  if (op === 'exists' || op === 'notExists') delete c[key]
  else if (op === 'between') {
    const pair = Array.isArray(c[key]) ? c[key] : ['', '']
    c[key] = pair
    row.append(input(`${id}-from`, 'From', pair[0], inputType, (v) => ((pair[0] = typed(type, v)), changed(false))))
    row.append(input(`${id}-to`, 'To', pair[1], inputType, (v) => ((pair[1] = typed(type, v)), changed(false))))
  } else if (op === 'in' || op === 'notIn') {
    const list = Array.isArray(c[key]) ? c[key] : []
    c[key] = list
    row.append(input(`${id}-list`, 'Values (comma separated)', list.join(', '), 'text', (v) => ((c[key] = v.split(',').map((x) => typed(type, x.trim())).filter((x) => x !== '' && x !== undefined)), changed(false))))
  } else if (DURATION_OPS.includes(op)) {
    row.append(input(`${id}-duration`, 'Duration (e.g. 30d, 12h)', typeof c[key] === 'string' ? c[key] : '30d', 'text', (v) => ((c[key] = v.trim()), changed(false))))
    if (typeof c[key] !== 'string') c[key] = '30d'
  } else if (type === 'boolean') {
    if (typeof c[key] !== 'boolean') c[key] = true
    row.append(select(`${id}-bool`, 'Value', [['true', 'true'], ['false', 'false']], String(c[key]), (v) => ((c[key] = v === 'true'), changed(false))))
  } else {
    if (Array.isArray(c[key])) c[key] = ''
    row.append(input(`${id}-value`, 'Value', c[key], inputType, (v) => ((c[key] = typed(type, v)), changed(false))))
  }
}

function fieldClause(c: Json, id: string, row: HTMLElement) {
  const type = fieldType(c.field)
  const ops = OPS_BY_TYPE[type]
  if (!ops.includes(c.op)) c.op = ops[0]
  row.append(select(`${id}-field`, 'Field', data.fields.map((f) => [f.key, f.label] as const), c.field, (v) => {
    c.field = v
    delete c.value
    changed(true)
  }))
  row.append(select(`${id}-op`, 'Test', ops.map((o) => [o, OP_LABELS[o]] as const), c.op, (v) => {
    c.op = v
    changed(true)
  }))
  valueInputs(c, id, row, type)
}

function activityClause(c: Json, id: string, row: HTMLElement) {
  row.append(select(`${id}-activity`, 'Activity', ACTIVITIES, c.activity, (v) => {
    c.activity = v
    if (v !== 'purchase') {
      delete c.sum
      delete c.avg
    }
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
  row.append(select(`${id}-where`, 'Where', WHERE, where?.field ?? '', (v) => {
    if (!v) delete c.where
    else c.where = { field: v, op: v === 'amount' ? 'gte' : 'contains', value: v === 'amount' ? 0 : '' }
    changed(true)
  }))
  if (where) {
    const type: FieldType = where.field === 'amount' ? 'number' : 'string'
    const sub = c.where = { ...where }
    row.append(select(`${id}-where-op`, 'Test', OPS_BY_TYPE[type].map((o) => [o, OP_LABELS[o]] as const), sub.op, (v) => ((sub.op = v), changed(true))))
    valueInputs(sub, `${id}-where`, row, type)
  }
  const measure = (['count', 'sum', 'avg', 'first', 'last'] as const).find((m) => c[m]) ?? ''
  const measures = c.activity === 'purchase' ? MEASURES : MEASURES.filter(([m]) => m !== 'sum' && m !== 'avg')
  row.append(select(`${id}-measure`, 'How', measures, measure, (v) => {
    for (const m of ['count', 'sum', 'avg', 'first', 'last']) delete c[m]
    if (v === 'first' || v === 'last') c[v] = { op: 'withinLast', value: '30d' }
    else if (v) c[v] = { op: 'gte', value: v === 'count' ? 3 : 100 }
    changed(true)
  }))
  if (measure) {
    const spec = c[measure]
    const isDate = measure === 'first' || measure === 'last'
    const ops = isDate ? ['withinLast', 'olderThan', 'before', 'after', 'between'] : ['gte', 'gt', 'eq', 'ne', 'lte', 'lt', 'between']
    row.append(select(`${id}-measure-op`, 'Test', ops.map((o) => [o, OP_LABELS[o]] as const), spec.op, (v) => ((spec.op = v), changed(true))))
    valueInputs(spec, `${id}-measure`, row, isDate ? 'date' : 'number')
  }
  row.append(input(`${id}-within`, 'In the last (e.g. 30d; empty: ever)', c.within ?? '', 'text', (v) => {
    if (v.trim()) c.within = v.trim()
    else delete c.within
    changed(false)
  }))
}

function segmentClause(c: Json, id: string, row: HTMLElement) {
  row.append(select(`${id}-segment`, 'Segment', data.segments.map((s) => [s.id, s.name] as const), c.segment, (v) => ((c.segment = v), changed(false))))
  row.append(select(`${id}-membership`, 'Membership', [['in', 'is in'], ['notIn', 'is not in']], c.op, (v) => ((c.op = v), changed(false))))
}

render()
changed(false)
