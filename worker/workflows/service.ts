/**
 * The work behind workflows, shared with the console: a graph is checked against the site's segments,
 * content and fields before it is saved or activated.
 */
import { type z } from 'zod'
import { FieldCatalog } from '../conditions/fields'
import { allContent } from '../data/content'
import { allSegments } from '../data/segments'
import { type Site } from '../data/sites'
import { type Workflow, allWorkflows, deleteWorkflow, deleteWorkflowCounters, getWorkflow, saveWorkflow } from '../data/workflows'
import { siteData } from '../data/shards'
import { type Changes } from '../background/changes'
import { refuse, notFound } from '../http/errors'
import { newId } from '../lib/ids'
import { checkGraph } from './graph'
import { type workflowCreate, type workflowPatch } from './schema'
import { type WorkflowGraph, type WorkflowStatus } from './types'

export function workflowJson(w: Workflow) {
  return {
    id: w.id,
    name: w.name,
    status: w.status,
    priority: w.priority,
    ...w.graph,
    createdAt: new Date(w.createdAt).toISOString(),
    updatedAt: new Date(w.updatedAt).toISOString(),
  }
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
  await validate(db, site, graph)
  const last = (await allWorkflows(db, site.id)).reduce((max, w) => Math.max(max, w.priority), -1)
  const workflow: Workflow = { id, name: input.name, status: input.status, graph, priority: input.priority ?? last + 1, createdAt: now, updatedAt: now }
  await saveWorkflow(db, site.id, workflow).run()
  changes.siteConfig(site)
  return workflow
}

export async function updateWorkflow(db: D1Database, site: Site, id: string, patch: z.output<typeof workflowPatch>, changes: Changes, now = Date.now()): Promise<Workflow> {
  const current = await getWorkflow(db, site.id, id)
  if (!current) throw notFound('workflow', id)
  const graph: WorkflowGraph = {
    start: patch.start ?? current.graph.start,
    entry: patch.entry ?? current.graph.entry,
    nodes: (patch.nodes as WorkflowGraph['nodes'] | undefined) ?? current.graph.nodes,
  }
  await validate(db, site, graph)
  const next: Workflow = { ...current, name: patch.name ?? current.name, priority: patch.priority ?? current.priority, graph, updatedAt: now }
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
  await data.each((db) => deleteWorkflowCounters(db, site.id, id).run())
  changes.siteConfig(site)
}

export { allWorkflows }
