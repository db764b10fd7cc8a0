/** The measurements that run Segue's TypeScript in Node, bundled together by bench/run.mjs. */
export { measureDecision, DECISION_SIZES } from './decision'
export { measureBackfill } from './backfill'
export { measureHotPath } from './hotpath'
