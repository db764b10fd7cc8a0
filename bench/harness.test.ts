/**
 * Keeps the benchmark harness working, at tiny sizes. No timing is asserted: `npm run bench` measures.
 */
import { describe, expect, it } from 'vitest'
import { loadSite, measureBackfill } from './backfill'
import { measureDecision } from './decision'
import { measureHotPath } from './hotpath'
import { budgets, markdown } from './report.mjs'
import { measureShardCounts } from './shards'
import { writeSideOn } from './write-side'

describe('benchmark harness', () => {
  it('measures the decision for a small site', async () => {
    const rows = await measureDecision({ quick: true, sizes: [[10, 1]] })
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ segments: 10, workflows: 1 })
    expect(rows[0].samples).toBeGreaterThan(0)
  }, 30_000)

  it('backfills a small site and finds the members the conditions describe', async () => {
    const row = await measureBackfill(400)
    expect(row).toMatchObject({ contacts: 400, events: 4000 })
    expect(row.fieldMembers).toBeGreaterThan(0)
    expect(row.activityMembers).toBeGreaterThan(0)
  }, 60_000)

  it('writes visits of returning contacts through the consumer on a small loaded site, and accounts for them', async () => {
    const site = await loadSite(400)
    try {
      const row = await writeSideOn(site, 1)
      expect(row).toMatchObject({ contacts: 400, visits: 100 })
      expect(row.rowsRead).toBeGreaterThan(0)
      expect(row.rowsWritten).toBeGreaterThan(0)
      expect(row.kvOps).toBeGreaterThan(0)
    } finally {
      await site.dispose()
    }
  }, 60_000)

  it('spreads a small site over one and two shards, writes visits on each and counts the same members', async () => {
    const { rows } = await measureShardCounts({ contacts: 60, rounds: 1, counts: [1, 2], passes: 1, fills: 1 })
    expect(rows.map((r) => r.shards)).toEqual([1, 2])
    expect(rows[0].membersCounted).toBe(rows[1].membersCounted)
    expect(rows[0].membersCounted).toBeGreaterThan(0)
    expect(rows[1].visitsPerShard).toHaveLength(2)
    expect(rows[1].visitsPerShard.every((n) => n > 0)).toBe(true)
    expect(rows[0].largestWriteShare).toBe(1)
    expect(rows[1].largestWriteShare).toBeLessThan(1)
    expect(rows[1].bytesPerShard).toHaveLength(2)
  }, 120_000)

  it('counts one KV read and no D1 query for a returning contact', async () => {
    const rows = await measureHotPath(8, 2)
    const returning = rows.find((r) => r.scenario.startsWith('returning contact (KV'))!
    expect(returning).toMatchObject({ kvReads: 1, kvWrites: 0, d1Queries: 0 })
    expect(rows.find((r) => r.scenario.startsWith('returning contact, KV missing'))).toMatchObject({ d1Queries: 0 })
    expect(rows.find((r) => r.scenario.startsWith('returning contact, KV and token'))!.d1Queries).toBeGreaterThan(0)
    expect(rows.find((r) => r.scenario.startsWith('an id the Worker did not issue'))).toMatchObject({ d1Queries: 0 })
    expect(rows.find((r) => r.scenario.startsWith('unsigned identify'))).toMatchObject({ d1Queries: 0 })
    expect(rows.find((r) => r.scenario.startsWith('signed identify'))!.d1Queries).toBeGreaterThan(0)
  }, 60_000)

  it('turns results into budget verdicts and tables', () => {
    const results = {
      date: '2026-11-29T00:00:00Z',
      quick: true,
      machine: { cpus: 2, model: 'cpu', memoryGiB: 24, os: 'linux', node: '20' },
      size: { raw: 9000, gzip: 4000, brotli: 3500 },
      edge: { ratio: 0.5, events: { rps: 50, p50: 1, p99: 2, errors: 0, rounds: [{}] }, bare: { rps: 100, p50: 1, p99: 2, errors: 0 }, seconds: 1, connections: 1, contacts: 1 },
      decision: [{ segments: 100, workflows: 20, meanUs: 30, p50Us: 29, p99Us: 40, rme: 1, samples: 10 }],
      backfill: [{ contacts: 100_000, events: 1_000_000, loadSeconds: 1, scanContactsMs: 10, scanEventsMs: 90, fieldBackfillMs: 20, fieldMembers: 1, activityBackfillMs: 400, activityMembers: 1 }],
      bundle: { raw: 1, gzip: 1, minRaw: 1, minGzip: 1 },
      hotPath: [{ scenario: 'returning contact (KV snapshot)', kvReads: 1, kvWrites: 0, d1Queries: 0 }],
    }
    expect(budgets(results).map((b: { met: boolean }) => b.met)).toEqual([true, false, true, true, false, true, true])
    expect(markdown(results)).toContain('| Segue `sdk.js` (with the content renderer) | 4,000 B |')
  })
})
