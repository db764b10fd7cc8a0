/** Rows split into JSON payloads for json_each(): every row kept, in order, each payload under D1's limit. */
import { describe, expect, it } from 'vitest'
import { jsonPayloads } from './json-rows'

describe('jsonPayloads', () => {
  it('keeps every row, in order, in payloads under 1 MB', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ i, text: 'é'.repeat(400) }))
    const payloads = jsonPayloads(rows)
    expect(payloads.length).toBeGreaterThan(2)
    for (const p of payloads) expect(new TextEncoder().encode(p).length).toBeLessThan(1_000_000)
    expect(payloads.flatMap((p) => JSON.parse(p))).toEqual(rows)
  })

  it('gives a single large row a payload of its own', () => {
    const payloads = jsonPayloads([{ a: 1 }, { big: 'x'.repeat(950_000) }, { b: 2 }])
    expect(payloads.map((p) => JSON.parse(p).length)).toEqual([1, 1, 1])
  })

  it('sends nothing for no rows', () => {
    expect(jsonPayloads([])).toEqual([])
  })
})
