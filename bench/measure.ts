/** The measurements that run Segue's TypeScript in Node, bundled together by bench/run.mjs. */
export { measureDecision, DECISION_SIZES } from './decision'
export { backfillOn, loadSite, measureBackfill } from './backfill'
export { writeSideOn } from './write-side'
export { measureHotPath } from './hotpath'
export { measureShardCounts } from './shards'
