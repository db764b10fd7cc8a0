/**
 * A workflow's live view: how many contacts entered it, reached each node and left each node by each
 * branch, in the last 7 and the last 30 days, counted as distinct contacts (worker/reports/distinct.ts)
 * from the registers every shard of the site keeps (worker/data/flow.ts).
 */
import { flowRegisters } from '../data/flow'
import { siteData } from '../data/shards'
import { type Site } from '../data/sites'
import { getWorkflow } from '../data/workflows'
import { notFound } from '../http/errors'
import { estimate } from '../reports/distinct'

const DAY_MS = 86_400_000

/** Distinct contacts in the last 7 and the last 30 days. */
export interface Passed {
  last7: number
  last30: number
}

export interface WorkflowFlow {
  workflow: string
  /** Contacts that entered the workflow (its Start node let them in). */
  start: Passed
  /** By node id: contacts that reached it, and by branch (yes, no, next, a variant id) those that left by it. */
  nodes: Record<string, Passed & { branches: Record<string, Passed> }>
}

/** The live view of a workflow of `site` at `now`; every node of its graph is named, with zeros when none passed. */
export async function workflowFlow(env: Env, site: Site, workflowId: string, now = Date.now()): Promise<WorkflowFlow> {
  const workflow = await getWorkflow(env.DB, site.id, workflowId)
  if (!workflow) throw notFound('workflow', workflowId)
  const today = Math.floor(now / DAY_MS)
  const shards = await siteData(env, site).each((db) => flowRegisters(db, site.id, workflow.id, today))
  // A sketch per node and branch, and per window: a register's rank is the largest any shard holds.
  const sketches = new Map<string, [Map<number, number>, Map<number, number>]>()
  for (const r of shards.flat()) {
    const key = `${r.node}\u0000${r.branch}`
    let s = sketches.get(key)
    if (!s) sketches.set(key, (s = [new Map(), new Map()]))
    if (r.last7 > 0) s[0].set(r.register, Math.max(s[0].get(r.register) ?? 0, r.last7))
    s[1].set(r.register, Math.max(s[1].get(r.register) ?? 0, r.last30))
  }
  const passed = (node: string, branch: string): Passed => {
    const s = sketches.get(`${node}\u0000${branch}`)
    return s ? { last7: estimate(s[0]), last30: estimate(s[1]) } : { last7: 0, last30: 0 }
  }
  const nodes: WorkflowFlow['nodes'] = {}
  for (const id of Object.keys(workflow.graph.nodes)) {
    const branches: Record<string, Passed> = {}
    for (const key of sketches.keys()) {
      const [node, branch] = key.split('\u0000')
      if (node === id && branch !== '') branches[branch] = passed(node, branch)
    }
    nodes[id] = { ...passed(id, ''), branches }
  }
  return { workflow: workflow.id, start: passed('', ''), nodes }
}
