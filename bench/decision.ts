/**
 * Evaluation cost: the pure decision (one page visit applied to a returning contact's snapshot,
 * segments re-evaluated, workflows run) in Node, with tinybench, across site sizes.
 */
import { Bench } from 'tinybench'
import { type SiteConfig, compileSite } from '../worker/visits/compile'
import { decide } from '../worker/visits/decide'
import { type Snapshot, emptySnapshot } from '../worker/visits/snapshot'
import { CONTENT, pageUrl, segments, workflows } from './site.mjs'

export interface DecisionRow {
  segments: number
  workflows: number
  meanUs: number
  p50Us: number
  p99Us: number
  /** Relative margin of error of the mean, in percent. */
  rme: number
  samples: number
}

export const DECISION_SIZES: Array<[segments: number, workflows: number]> = [10, 100, 1000].flatMap((s) => [1, 20, 100].map((w) => [s, w] as [number, number]))

/**
 * The bench site: its workflows run A/B tests and weekly schedules (site.mjs), its fatigue caps are read
 * on every run that would show a popup or slide-in, and its content is held back for visitors who
 * converted after seeing it.
 */
function config(nSegments: number, nWorkflows: number): SiteConfig {
  return {
    version: 1,
    site: {
      id: 'bench', key: 'pk_bench', allowedOrigins: [], browserFields: [], fields: [], identitySecret: 'idsec_bench', trustUnsignedIdentify: false,
      timeZone: 'Europe/Madrid', fatigue: { perSession: 3, perDay: 10 },
    },
    segments: segments(nSegments) as SiteConfig['segments'],
    workflows: workflows(nWorkflows, nSegments).map((w) => ({ id: w.id, graph: { start: w.start, entry: w.entry, nodes: w.nodes } })) as SiteConfig['workflows'],
    content: Object.fromEntries(CONTENT.map((c) => [c.id, { ...c, neverAfterConverted: true }])) as SiteConfig['content'],
  }
}

export async function measureDecision(opts: { quick: boolean; sizes?: Array<[number, number]> }): Promise<DecisionRow[]> {
  const rows: DecisionRow[] = []
  const quick = opts.quick
  for (const [nSegments, nWorkflows] of opts.sizes ?? DECISION_SIZES) {
    {
      const site = compileSite(config(nSegments, nWorkflows))
      const now = Date.now()
      // A returning contact with a history: 60 visits and a few purchases over the last weeks.
      let snap: Snapshot = emptySnapshot(site, 'c_bench', now - 40 * 86_400_000)
      snap.f = { ...snap.f, birthDate: '1985-06-01', country: 'ES', newsletter: 'subscribed' }
      for (let i = 0; i < 60; i++) {
        const at = now - (60 - i) * 12 * 3_600_000
        const events = [{ activity: { id: `h${i}`, type: 'page_visit' as const, at, url: pageUrl(i) } }]
        if (i % 15 === 0) events.push({ activity: { id: `p${i}`, type: 'purchase' as const, at, amountMilli: 30_000 } as never })
        snap = decide(site, snap, events, at).snapshot
      }
      let n = 0
      const bench = new Bench({ time: quick ? 100 : 400, warmupTime: quick ? 20 : 100 })
      bench.add('decide', () => {
        n++
        decide(site, snap, [{ activity: { id: `e${n}`, type: 'page_visit', at: now, url: pageUrl(n) } }], now)
      })
      await bench.run()
      const r = bench.tasks[0].result as unknown as { latency: { mean: number; p50: number; p99: number; rme: number; df: number } }
      rows.push({ segments: nSegments, workflows: nWorkflows, meanUs: r.latency.mean * 1000, p50Us: r.latency.p50 * 1000, p99Us: r.latency.p99 * 1000, rme: r.latency.rme, samples: r.latency.df + 1 })
    }
  }
  return rows
}
