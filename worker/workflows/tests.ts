/**
 * A/B/X tests in workflows: a test node's report (per variant: contacts exposed, shown, clicked, closed,
 * conversions and revenue, the conversion rate with its interval and each variant's probability to be
 * best: worker/reports/ab-stats.ts), and picking its winner, which sends everyone to that variant.
 */
import { abTestCounts, attributionOf } from '../data/reports'
import { siteData } from '../data/shards'
import { type Site } from '../data/sites'
import { getWorkflow } from '../data/workflows'
import { type Changes } from '../background/changes'
import { notFound, refuse } from '../http/errors'
import { abReport } from '../reports/ab-stats'
import { updateWorkflow } from './service'


async function testNode(db: D1Database, site: Site, workflowId: string, nodeId: string) {
  const workflow = await getWorkflow(db, site.id, workflowId)
  if (!workflow) throw notFound('workflow', workflowId)
  const node = workflow.graph.nodes[nodeId]
  if (!node || node.type !== 'abTest') throw refuse('not_found', 'test_not_found', `Workflow "${workflow.name}" has no A/B test node "${nodeId}"`)
  return { workflow, node }
}

/** A test node's report, counted on every shard of the site and summed. */
export async function testReport(env: Env, site: Site, workflowId: string, nodeId: string) {
  const { workflow, node } = await testNode(env.DB, site, workflowId, nodeId)
  const shards = await siteData(env, site).each((db) => abTestCounts(db, site.id, workflow.id, nodeId, attributionOf(site)))
  const sum = (f: (s: (typeof shards)[number]) => number) => shards.reduce((n, s) => n + f(s), 0)
  const rows = node.variants.map((v) => ({
    variant: v,
    exposed: sum((s) => s.exposed.get(v.id) ?? 0),
    shown: sum((s) => s.actions.get(v.id)?.shown ?? 0),
    clicked: sum((s) => s.actions.get(v.id)?.clicked ?? 0),
    closed: sum((s) => s.actions.get(v.id)?.closed ?? 0),
    conversions: sum((s) => s.conversions.get(v.id)?.contacts ?? 0),
    revenue: sum((s) => s.conversions.get(v.id)?.revenueMilli ?? 0) / 1000,
  }))
  // A conversion is counted for a contact exposed to the variant: rates are over the contacts exposed.
  const stats = abReport(rows.map((r) => ({ id: r.variant.id, exposed: Math.max(r.exposed, r.conversions), conversions: r.conversions, revenue: r.revenue })))
  return {
    workflow: workflow.id,
    node: nodeId,
    winner: node.winner ?? null,
    attributionDays: site.attributionDays,
    conversion: site.conversion,
    variants: rows.map((r, i) => ({
      id: r.variant.id,
      name: r.variant.name ?? null,
      weight: r.variant.weight,
      exposed: r.exposed,
      shown: r.shown,
      clicked: r.clicked,
      closed: r.closed,
      conversions: r.conversions,
      revenue: r.revenue,
      conversionRate: stats[i].rate,
      interval: stats[i].interval,
      probabilityBest: stats[i].probabilityBest,
      lift: stats[i].lift,
    })),
  }
}

/** Picks a test's winner: from then on every contact takes that variant, and no more exposures are counted. */
export async function pickWinner(env: Env, site: Site, workflowId: string, nodeId: string, variant: string, changes: Changes) {
  const { workflow, node } = await testNode(env.DB, site, workflowId, nodeId)
  if (!node.variants.some((v) => v.id === variant)) {
    throw refuse('invalid', 'invalid_request', `variant: "${variant}" is not a variant of this test (${node.variants.map((v) => v.id).join(', ')})`, { field: 'variant' })
  }
  return updateWorkflow(env.DB, site, workflow.id, { nodes: { ...workflow.graph.nodes, [nodeId]: { ...node, winner: variant } } }, changes)
}
