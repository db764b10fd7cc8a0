/**
 * The in-memory evaluator against the pinned cases of cases.json and on malformed trees (an answer, never a
 * throw), and the per-clause verdicts `explain` gives. Pure, so it runs in Node beside the code.
 */
import { describe, expect, it } from 'vitest'
import { CASES_NOW, CASE_FIELDS, CONDITION_CASES, type CaseContact } from './case-file'
import { evaluate, explain, historyFacts } from './evaluate'
import { FieldCatalog } from './fields'
import { prepare } from './prepare'

const catalog = new FieldCatalog(CASE_FIELDS)

function factsOf(c: Partial<CaseContact>) {
  return historyFacts({ ...c.fields, email: c.email, createdAt: c.createdAt ?? CASES_NOW }, c.events ?? [], new Set(c.segments))
}

describe('evaluate', () => {
  it.each(CONDITION_CASES)('%s', (_name, contact, condition, expected) => {
    expect(evaluate(prepare(condition, catalog), factsOf(contact), CASES_NOW)).toBe(expected)
  })

  it('never throws on malformed trees', () => {
    const junk = [{ all: null }, { field: 7, op: 'eq' }, { activity: 'purchase', sum: 'lots' }, { any: [{}] }, { segment: 'x', op: 'maybe' }]
    for (const tree of junk) expect(() => evaluate(prepare(tree as never, catalog), factsOf({}), CASES_NOW)).not.toThrow()
  })
})

describe('explain', () => {
  it('gives each clause its verdict and the value it compared', () => {
    const e = explain(
      prepare({ all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }, { activity: 'purchase', sum: { op: 'gte', value: 100 } }] }, catalog),
      factsOf({ fields: { birthDate: '1990-04-02' }, events: [{ id: 'e0', type: 'purchase', amountMilli: 40_500, at: CASES_NOW }] }),
      CASES_NOW,
    )
    expect(e.met).toBe(false)
    expect(e.children?.map((c) => [c.met, c.actual])).toEqual([[true, '1990-04-02'], [false, 40.5]])
  })
})
