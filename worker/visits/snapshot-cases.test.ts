/**
 * The snapshot's aggregates against the pinned cases of cases.json: deciding from a snapshot, the edge
 * reaches the verdict each case gives for the contact's whole history.
 */
import { describe, expect, it } from 'vitest'
import { CASES_NOW, CASE_FIELDS, CONDITION_CASES, type CaseContact } from '../conditions/case-file'
import { evaluate } from '../conditions/evaluate'
import { type Condition, type Scalar } from '../conditions/types'
import { type CompiledSite, compileSite } from './compile'
import { type Snapshot, aggregateHistory, emptySnapshot, snapshotFacts } from './snapshot'

/** A site whose only dynamic segment is the case's condition. */
function siteOf(condition: Condition): CompiledSite {
  return compileSite({
    version: 1,
    site: { id: 'cases', key: 'pk_cases', allowedOrigins: [], browserFields: [], fields: CASE_FIELDS, identitySecret: 'idsec_test', trustUnsignedIdentify: false },
    segments: [{ id: 'seg_case', type: 'dynamic', conditions: condition }],
    workflows: [],
    content: {},
  })
}

/** The contact as the edge keeps it: fields, memberships and the aggregates of its whole history. */
function snapshotOf(site: CompiledSite, c: CaseContact): Snapshot {
  const f: Record<string, Scalar> = { ...c.fields, createdAt: c.createdAt }
  if (c.email !== undefined) f.email = c.email
  return {
    ...emptySnapshot(site, 'c1', CASES_NOW),
    f,
    m: Object.fromEntries(c.segments.map((id) => [id, CASES_NOW])),
    ...aggregateHistory(site, c.events, CASES_NOW),
  }
}

describe('snapshot aggregates', () => {
  it.each(CONDITION_CASES)('%s', (_name, contact, condition, expected) => {
    const site = siteOf(condition)
    const [segment] = site.dynamic
    expect(evaluate(segment.node, snapshotFacts(snapshotOf(site, contact), site), CASES_NOW)).toBe(expected)
  })
})
