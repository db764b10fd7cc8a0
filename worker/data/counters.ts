/** Node limitation counters: how often, and when last, a workflow node ran for a contact. */

export async function countersOf(db: D1Database, siteId: string, contactId: string): Promise<Record<string, [number, number]>> {
  const { results } = await db
    .prepare('SELECT workflow_id, node_id, runs, last_at FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2')
    .bind(siteId, contactId)
    .all<{ workflow_id: string; node_id: string; runs: number; last_at: number }>()
  return Object.fromEntries(results.map((r) => [`${r.workflow_id}/${r.node_id}`, [r.runs, r.last_at]]))
}

/** Records counters as the edge saw them; a replayed message never moves one back. */
export function saveCounters(db: D1Database, siteId: string, contactId: string, counters: Array<[key: string, runs: number, lastAt: number]>): D1PreparedStatement[] {
  return counters.map(([key, runs, lastAt]) => {
    const [workflowId, nodeId] = key.split('/')
    return db
      .prepare(
        `INSERT INTO workflow_counters (site_id, contact_id, workflow_id, node_id, runs, last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET runs = max(runs, ?5), last_at = max(last_at, ?6)`,
      )
      .bind(siteId, contactId, workflowId, nodeId, runs, lastAt)
  })
}
