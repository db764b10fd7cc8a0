/**
 * The workflows table: a site's workflows with their graphs, read in the order they run; deleting one
 * deletes its node limitation counters too.
 */
import { type WorkflowGraph, type WorkflowLayout, type WorkflowStatus } from '../workflows/types'

export interface Workflow {
  id: string
  name: string
  status: WorkflowStatus
  graph: WorkflowGraph
  /** Where the console's canvas draws its nodes (looks only; migration 0019); absent: laid out on opening. */
  layout?: WorkflowLayout
  /** Where it runs among the site's workflows: a smaller number first (see migration 0010). */
  priority: number
  createdAt: number
  updatedAt: number
}

interface WorkflowRow {
  id: string
  name: string
  status: WorkflowStatus
  graph: string
  layout: string | null
  priority: number
  created_at: number
  updated_at: number
}

function toWorkflow(r: WorkflowRow): Workflow {
  const w: Workflow = { id: r.id, name: r.name, status: r.status, graph: JSON.parse(r.graph), priority: r.priority, createdAt: r.created_at, updatedAt: r.updated_at }
  if (r.layout) w.layout = JSON.parse(r.layout)
  return w
}

/** A site's workflows in the order they run: by priority, then the oldest first. */
export async function allWorkflows(db: D1Database, siteId: string): Promise<Workflow[]> {
  const { results } = await db.prepare('SELECT * FROM workflows WHERE site_id = ?1 ORDER BY priority, created_at, id').bind(siteId).all<WorkflowRow>()
  return results.map(toWorkflow)
}

export async function getWorkflow(db: D1Database, siteId: string, id: string): Promise<Workflow | undefined> {
  const row = await db.prepare('SELECT * FROM workflows WHERE site_id = ?1 AND id = ?2').bind(siteId, id).first<WorkflowRow>()
  return row ? toWorkflow(row) : undefined
}

export function saveWorkflow(db: D1Database, siteId: string, w: Workflow): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO workflows (site_id, id, name, status, graph, priority, created_at, updated_at, layout) VALUES (?1, ?2, ?3, ?4, ?5, ?8, ?6, ?7, ?9)
       ON CONFLICT (site_id, id) DO UPDATE SET name = ?3, status = ?4, graph = ?5, priority = ?8, updated_at = ?7, layout = ?9`,
    )
    .bind(siteId, w.id, w.name, w.status, JSON.stringify(w.graph), w.createdAt, w.updatedAt, w.priority, w.layout ? JSON.stringify(w.layout) : null)
}

/**
 * Gives the workflows named in `ids` the priorities 0, 1, 2… in that order, touching only those whose
 * priority changes. The ids travel as one JSON array, so one statement orders any number of them under
 * D1's 100 bound parameters.
 */
export function saveWorkflowOrder(db: D1Database, siteId: string, ids: string[], now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE workflows SET priority = o.key, updated_at = ?3 FROM json_each(?2) o
       WHERE workflows.site_id = ?1 AND workflows.id = o.value AND workflows.priority != o.key`,
    )
    .bind(siteId, JSON.stringify(ids), now)
}

/** Deletes a workflow from the control database; its counters go from each shard (`deleteWorkflowCounters`). */
export function deleteWorkflow(db: D1Database, siteId: string, id: string): D1PreparedStatement[] {
  return [db.prepare('DELETE FROM workflows WHERE site_id = ?1 AND id = ?2').bind(siteId, id)]
}

/** Deletes a workflow's limitation counters on one shard. */
export function deleteWorkflowCounters(db: D1Database, siteId: string, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM workflow_counters WHERE site_id = ?1 AND workflow_id = ?2').bind(siteId, id)
}
