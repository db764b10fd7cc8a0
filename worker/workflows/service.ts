/**
 * The work behind workflows, shared with the console: a graph is checked against the site's segments,
 * content and fields before it is saved or activated.
 */
import { type z } from 'zod'
import { FieldCatalog } from '../conditions/fields'
import { allContent } from '../data/content'
import { allSegments } from '../data/segments'
import { type Site } from '../data/sites'
import { type Workflow, allWorkflows, deleteWorkflow, deleteWorkflowCounters, getWorkflow, saveWorkflow, saveWorkflowOrder } from '../data/workflows'
import { deleteWorkflowRegisters } from '../data/flow'
import { siteData } from '../data/shards'
import { type Changes } from '../background/changes'
import { type Issue, refuse, notFound } from '../http/errors'
import { newId } from '../lib/ids'
import { checkGraph } from './graph'
import { type workflowCreate, type workflowPatch } from './schema'
import { type WorkflowGraph, type WorkflowLayout, type WorkflowStatus } from './types'

export function workflowJson(w: Workflow) {
  return {
    id: w.id,
    name: w.name,
    status: w.status,
    priority: w.priority,
    ...w.graph,
    ...(w.layout ? { layout: w.layout } : {}),
    createdAt: new Date(w.createdAt).toISOString(),
    updatedAt: new Date(w.updatedAt).toISOString(),
  }
}

/** Refuses a layout that places a node the graph does not have, with 400 naming it. */
function checkLayout(layout: WorkflowLayout | undefined, graph: WorkflowGraph): void {
  for (const key of Object.keys(layout ?? {})) {
    if (key !== 'start' && !Object.hasOwn(graph.nodes, key)) {
      throw refuse('invalid', 'invalid_workflow', `The layout places "${key}", which is not a node of the workflow`, { extra: { node: key } })
    }
  }
}

/** What a layout keeps once the graph changed under it: the places of the nodes still there. */
function keptLayout(layout: WorkflowLayout | undefined, graph: WorkflowGraph): WorkflowLayout | undefined {
  if (!layout) return undefined
  const kept = Object.fromEntries(Object.entries(layout).filter(([key]) => key === 'start' || Object.hasOwn(graph.nodes, key)))
  return Object.keys(kept).length ? kept : undefined
}

/** Refuses a graph that cannot run as drawn, with 400 naming the node at fault. */
async function validate(db: D1Database, site: Site, graph: WorkflowGraph): Promise<void> {
  const [segments, content] = await Promise.all([allSegments(db, site.id), allContent(db, site.id)])
  const problem = checkGraph(graph, {
    segments: new Map(segments.map((s) => [s.id, s.type])),
    content: new Set(content.map((c) => c.id)),
    catalog: new FieldCatalog(site.fields),
  })
  if (problem) {
    const where = problem.node === 'start' ? 'The Start node' : `Node "${problem.node}"`
    throw refuse('invalid', 'invalid_workflow', `${where}: ${problem.message}`, { extra: { node: problem.node } })
  }
}

export async function createWorkflow(db: D1Database, site: Site, input: z.output<typeof workflowCreate>, changes: Changes, now = Date.now()): Promise<Workflow> {
  const id = input.id ?? newId('wf', 12)
  if (await getWorkflow(db, site.id, id)) throw refuse('conflict', 'workflow_exists', `A workflow with id "${id}" already exists`, { field: 'id' })
  const graph: WorkflowGraph = { start: input.start, entry: input.entry, nodes: input.nodes as WorkflowGraph['nodes'] }
  checkLayout(input.layout, graph)
  await validate(db, site, graph)
  const last = (await allWorkflows(db, site.id)).reduce((max, w) => Math.max(max, w.priority), -1)
  const workflow: Workflow = { id, name: input.name, status: input.status, graph, priority: input.priority ?? last + 1, createdAt: now, updatedAt: now }
  if (input.layout) workflow.layout = input.layout
  await saveWorkflow(db, site.id, workflow).run()
  changes.siteConfig(site)
  return workflow
}

/**
 * Applies a patch (and, from the console's "Save and activate" or "Save and pause", a status) in one write;
 * the graph is checked whole first, and nothing is written when it is refused.
 */
export async function updateWorkflow(db: D1Database, site: Site, id: string, patch: z.output<typeof workflowPatch>, changes: Changes, now = Date.now(), status?: WorkflowStatus): Promise<Workflow> {
  const current = await getWorkflow(db, site.id, id)
  if (!current) throw notFound('workflow', id)
  const graph: WorkflowGraph = {
    start: patch.start ?? current.graph.start,
    entry: patch.entry ?? current.graph.entry,
    nodes: (patch.nodes as WorkflowGraph['nodes'] | undefined) ?? current.graph.nodes,
  }
  checkLayout(patch.layout, graph)
  await validate(db, site, graph)
  const next: Workflow = { ...current, name: patch.name ?? current.name, status: status ?? current.status, priority: patch.priority ?? current.priority, graph, updatedAt: now }
  // A patch without a layout keeps the places of the nodes that are still there.
  const layout = patch.layout ?? keptLayout(current.layout, graph)
  if (layout) next.layout = layout
  else delete next.layout
  await saveWorkflow(db, site.id, next).run()
  changes.siteConfig(site)
  return next
}

export async function setWorkflowStatus(db: D1Database, site: Site, id: string, status: WorkflowStatus, changes: Changes, now = Date.now()): Promise<Workflow> {
  const current = await getWorkflow(db, site.id, id)
  if (!current) throw notFound('workflow', id)
  if (status === 'active') await validate(db, site, current.graph)
  const next = { ...current, status, updatedAt: now }
  await saveWorkflow(db, site.id, next).run()
  changes.siteConfig(site)
  return next
}

export async function removeWorkflow(env: Env, site: Site, id: string, changes: Changes): Promise<void> {
  const data = siteData(env, site)
  if (!(await getWorkflow(data.control, site.id, id))) throw notFound('workflow', id)
  await data.control.batch(deleteWorkflow(data.control, site.id, id))
  await data.each((db) => db.batch([deleteWorkflowCounters(db, site.id, id), deleteWorkflowRegisters(db, site.id, id)]))
  changes.siteConfig(site)
}

/**
 * Puts the site's workflows in the order of `ids` (priorities 0, 1, 2…), which must name each of them
 * once; otherwise refused with 400, naming each id at fault, and nothing is written.
 *
 * @example
 * await reorderWorkflows(db, site, ['wf_sale', 'wf_album_of_the_week', 'wf_welcome_buyers'], changes)
 */
export async function reorderWorkflows(db: D1Database, site: Site, ids: string[], changes: Changes, now = Date.now()): Promise<Workflow[]> {
  return writeOrder(db, site, await allWorkflows(db, site.id), ids, changes, now)
}

/** Moves a workflow one place up (earlier) or down in the site's order; at either end it stays. */
export async function moveWorkflow(db: D1Database, site: Site, id: string, direction: 'up' | 'down', changes: Changes, now = Date.now()): Promise<Workflow[]> {
  const current = await allWorkflows(db, site.id)
  const ids = current.map((w) => w.id)
  const from = ids.indexOf(id)
  if (from < 0) throw notFound('workflow', id)
  const to = direction === 'up' ? from - 1 : from + 1
  if (to >= 0 && to < ids.length) [ids[from], ids[to]] = [ids[to], ids[from]]
  return writeOrder(db, site, current, ids, changes, now)
}

async function writeOrder(db: D1Database, site: Site, current: Workflow[], ids: string[], changes: Changes, now: number): Promise<Workflow[]> {
  const byId = new Map(current.map((w) => [w.id, w]))
  const issues: Issue[] = []
  const seen = new Set<string>()
  ids.forEach((id, i) => {
    if (!byId.has(id)) issues.push({ path: `ids[${i}]`, message: `no workflow "${id}" on this site` })
    else if (seen.has(id)) issues.push({ path: `ids[${i}]`, message: `"${id}" is named more than once` })
    seen.add(id)
  })
  const missing = current.filter((w) => !seen.has(w.id)).map((w) => `"${w.id}"`)
  if (missing.length > 0) issues.push({ path: 'ids', message: `leaves out ${missing.join(', ')}` })
  if (issues.length > 0) {
    const words = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')
    throw refuse('invalid', 'invalid_order', `The order must name every workflow of the site once: ${words}`, { field: 'ids', issues: issues.slice(0, 20) })
  }
  await db.batch([saveWorkflowOrder(db, site.id, ids, now)])
  changes.siteConfig(site)
  return ids.map((id, priority) => {
    const w = byId.get(id)!
    return w.priority === priority ? w : { ...w, priority, updatedAt: now }
  })
}

export { allWorkflows }
