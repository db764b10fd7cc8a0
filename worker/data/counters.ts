/** Node limitation counters: how often, and when last, a workflow node ran for a contact. */

export async function countersOf(db: D1Database, siteId: string, contactId: string): Promise<Record<string, [number, number]>> {
  const { results } = await db
    .prepare('SELECT workflow_id, node_id, runs, last_at FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2')
    .bind(siteId, contactId)
    .all<{ workflow_id: string; node_id: string; runs: number; last_at: number }>()
  return Object.fromEntries(results.map((r) => [`${r.workflow_id}/${r.node_id}`, [r.runs, r.last_at]]))
}

/**
 * Adds the runs a visit made to its contact's counters, in one statement for them all, once: only the
 * transaction that recorded message `messageId` with `attempt` adds them (see data/processed.ts), so a
 * message delivered twice, even at once, counts once; and concurrent visits add up rather than overwrite.
 */
export function addCounters(
  db: D1Database,
  siteId: string,
  contactId: string,
  counters: Array<[key: string, runs: number, lastAt: number]>,
  message: { id: string; attempt: string },
): D1PreparedStatement[] {
  if (counters.length === 0) return []
  const rows = counters.map(([key, runs, lastAt]) => {
    const [workflow, node] = key.split('/')
    return { workflow, node, runs, lastAt }
  })
  return [
    db
      .prepare(
        `INSERT INTO workflow_counters (site_id, contact_id, workflow_id, node_id, runs, last_at)
         SELECT ?1, ?2, r.value ->> '$.workflow', r.value ->> '$.node', r.value ->> '$.runs', r.value ->> '$.lastAt' FROM json_each(?3) r
         WHERE EXISTS (SELECT 1 FROM processed_messages WHERE site_id = ?1 AND id = ?4 AND attempt = ?5)
         ON CONFLICT DO UPDATE SET runs = runs + excluded.runs, last_at = max(last_at, excluded.last_at)`,
      )
      .bind(siteId, contactId, JSON.stringify(rows), message.id, message.attempt),
  ]
}

/**
 * Counters as totals, never moved back: how visits queued before they carried an id (and counted what
 * the counters came to, not what they added) are written.
 */
export function raiseCounters(db: D1Database, siteId: string, contactId: string, counters: Array<[key: string, runs: number, lastAt: number]>): D1PreparedStatement[] {
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
