import { describe, expect, it } from 'vitest'
import { REGISTERS, estimate, registerOf } from './distinct'

/** The sketch of these contacts: register → largest rank. */
function sketch(ids: Iterable<string>): Map<number, number> {
  const out = new Map<number, number>()
  for (const id of ids) {
    const [r, rank] = registerOf(id)
    out.set(r, Math.max(out.get(r) ?? 0, rank))
  }
  return out
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `c_${(from + i).toString(36)}x`)

describe('counting distinct contacts in a sketch', () => {
  it('counts none, one, and a handful exactly', () => {
    expect(estimate(new Map())).toBe(0)
    expect(estimate(sketch(['c1']))).toBe(1)
    expect(estimate(sketch(ids(0, 5)))).toBe(5)
    expect(estimate(sketch(ids(0, 40)))).toBe(40)
  })

  it('counts a contact seen many times once', () => {
    expect(estimate(sketch([...ids(0, 20), ...ids(0, 20), ...ids(5, 15)]))).toBe(estimate(sketch(ids(0, 20))))
  })

  it('stays within a few percent from dozens to a million', () => {
    for (const n of [40, 300, 5_000, 100_000, 1_000_000]) {
      const got = estimate(sketch(ids(0, n)))
      expect(Math.abs(got - n) / n, `${n} counted as ${got}`).toBeLessThan(0.06)
    }
  })

  it('merges the sketches of two days, or two shards, into the count of their union', () => {
    const a = sketch(ids(0, 3_000))
    const b = sketch(ids(2_000, 6_000))
    const union = new Map(a)
    for (const [r, rank] of b) union.set(r, Math.max(union.get(r) ?? 0, rank))
    expect(union).toEqual(sketch(ids(0, 6_000)))
    expect(Math.abs(estimate(union) - 6_000) / 6_000).toBeLessThan(0.06)
  })

  it('uses registers evenly, and ranks from 1 up', () => {
    const used = sketch(ids(0, 50_000))
    expect(used.size).toBe(REGISTERS)
    for (const rank of used.values()) expect(rank).toBeGreaterThanOrEqual(1)
  })
})
