/**
 * Where contacts go in a workflow: per node and branch, a day's HyperLogLog registers (migration 0015,
 * worker/reports/distinct.ts). Writing sets registers (only ever up), reading takes each register's
 * largest rank over the days asked for.
 */

/** A node a run reached ('' for the Start node), and the branch it left by ('' for reaching it). */
export type Pass = [workflow: string, node: string, branch: string]

/**
 * Records a contact's passes on `day`, in one statement: each sets the contact's register to its rank
 * unless it holds a larger one. Writing again, or out of order, changes nothing.
 */
export function notePasses(db: D1Database, siteId: string, day: number, register: [index: number, rank: number], passes: readonly Pass[]): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO node_registers (site_id, workflow_id, day, node, branch, register, rank)
       SELECT ?1, p.value ->> 0, ?2, p.value ->> 1, p.value ->> 2, ?3, ?4 FROM json_each(?5) p WHERE true
       ON CONFLICT DO UPDATE SET rank = excluded.rank WHERE excluded.rank > node_registers.rank`,
    )
    .bind(siteId, day, register[0], register[1], JSON.stringify(passes))
}

/** A register of a node's branch, as the last 7 and the last 30 days leave it (0: not set in those days). */
export interface FlowRegister {
  node: string
  branch: string
  register: number
  last7: number
  last30: number
}

/**
 * A workflow's registers over the 30 days up to `today` (a UTC day number), with the largest rank each held
 * in the last 7 and the last 30: one range read on the primary key, at most 30 × 1,024 rows a node's branch.
 */
export async function flowRegisters(db: D1Database, siteId: string, workflowId: string, today: number): Promise<FlowRegister[]> {
  const { results } = await db
    .prepare(
      `SELECT node, branch, register, coalesce(max(CASE WHEN day > ?4 THEN rank END), 0) AS last7, max(rank) AS last30
       FROM node_registers WHERE site_id = ?1 AND workflow_id = ?2 AND day > ?3 AND day <= ?5
       GROUP BY node, branch, register`,
    )
    .bind(siteId, workflowId, today - 30, today - 7, today)
    .all<FlowRegister>()
  return results
}

/** Deletes up to `chunk` registers of days before `beforeDay`, through node_registers_day. */
export function pruneNodeRegisters(db: D1Database, siteId: string, beforeDay: number, chunk: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM node_registers WHERE (site_id, workflow_id, day, node, branch, register) IN (
         SELECT site_id, workflow_id, day, node, branch, register FROM node_registers INDEXED BY node_registers_day
         WHERE site_id = ?1 AND day < ?2 LIMIT ?3)`,
    )
    .bind(siteId, beforeDay, chunk)
}

/** Deletes a workflow's registers on one shard (at most 31 days of them). */
export function deleteWorkflowRegisters(db: D1Database, siteId: string, workflowId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM node_registers WHERE site_id = ?1 AND workflow_id = ?2').bind(siteId, workflowId)
}
