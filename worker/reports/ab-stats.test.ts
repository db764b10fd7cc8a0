/**
 * An A/B/X report's statistics: Wilson intervals against published values, probability to be best against
 * the exact two-variant sum and its symmetries, counts in the millions, no data yet, and the report's
 * lift and revenue columns.
 */
import { describe, expect, it } from 'vitest'
import { abReport, conversionRate, probabilityBest, wilson } from './ab-stats'

const counts = (conversions: number, exposed: number) => ({ exposed, conversions })

describe('wilson', () => {
  it.each([
    [10, 100, 0.0552, 0.1744],
    [50, 100, 0.4038, 0.5962],
    [0, 10, 0, 0.2775],
    [10, 10, 0.7225, 1],
  ])('%i of %i lies in [%f, %f]', (successes, n, low, high) => {
    const interval = wilson(successes, n)!
    expect(interval.low).toBeCloseTo(low, 4)
    expect(interval.high).toBeCloseTo(high, 4)
  })
  it('puts the bound of 0/n at exactly 0 and of n/n at exactly 1', () => {
    expect(wilson(0, 7)!.low).toBe(0)
    expect(wilson(7, 7)!.high).toBe(1)
  })
  it('has no interval before anyone is exposed', () => {
    expect(wilson(0, 0)).toBeNull()
    expect(conversionRate(counts(0, 0))).toBeNull()
  })
  it('refuses more conversions than exposures, or negative counts', () => {
    expect(() => wilson(11, 10)).toThrow(RangeError)
    expect(() => probabilityBest([counts(-1, 10), counts(1, 10)])).toThrow(RangeError)
  })
})

describe('probabilityBest', () => {
  it('splits evenly between variants with the same counts', () => {
    expect(probabilityBest([counts(30, 300), counts(30, 300)])).toEqual([0.5, 0.5])
  })
  it('gives equal probabilities before anyone is exposed', () => {
    for (const n of [2, 3, 5]) {
      const p = probabilityBest(Array.from({ length: n }, () => counts(0, 0)))
      for (const v of p) expect(v).toBeCloseTo(1 / n, 12)
    }
  })
  it('is near certain for a clear winner', () => {
    const [control, b] = probabilityBest([counts(100, 1000), counts(200, 1000)])
    expect(b).toBeGreaterThan(0.999)
    expect(control).toBeLessThan(0.001)
  })
  it.each([
    [counts(0, 1), counts(1, 1)],
    [counts(3, 10), counts(5, 12)],
    [counts(100, 1000), counts(120, 1000)],
    [counts(0, 10), counts(0, 1000)],
    [counts(10, 100), counts(100_500, 1_000_000)],
    [counts(100_000, 1_000_000), counts(100_500, 1_000_000)],
  ])('agrees with the exact two-variant sum for %j and %j', (a, b) => {
    expect(Math.abs(probabilityBest([a, b])[1] - exactBBeatsA(a, b))).toBeLessThan(1e-5)
  })
  it('sums to 1 over three variants and ranks them by their rates', () => {
    const p = probabilityBest([counts(50, 1000), counts(60, 1000), counts(40, 900)])
    expect(Math.abs(p[0] + p[1] + p[2] - 1)).toBeLessThan(1e-6)
    expect(p[1]).toBeGreaterThan(p[0])
    expect(p[0]).toBeGreaterThan(p[2])
  })
  it('handles five variants of a million exposures each', () => {
    const p = probabilityBest([0, 1, 2, 3, 4].map((i) => counts(100_000 + 300 * i, 1_000_000)))
    expect(p.every(Number.isFinite)).toBe(true)
    expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6)
    expect([...p].sort((a, b) => a - b)).toEqual(p)
    expect(p[4]).toBeCloseTo(0.7237, 3)
  })
  it('weighs a variant with a thousand times fewer exposures', () => {
    const p = probabilityBest([counts(100_000, 1_000_000), counts(100, 1000), counts(0, 0)])
    expect(Math.abs(p[0] + p[1] + p[2] - 1)).toBeLessThan(1e-6)
    // With no data the third variant's rate is uniform on [0, 1]: it beats 10 % nine times in ten.
    expect(p[2]).toBeCloseTo(0.9, 2)
  })
  it('gives the same answer every time', () => {
    const variants = [counts(123, 4567), counts(130, 4500), counts(98, 4400)]
    expect(probabilityBest(variants)).toEqual(probabilityBest(variants))
  })
})

describe('abReport', () => {
  it('reports rate, interval, probability to be best, revenue per exposed contact and lift', () => {
    const [control, b] = abReport([
      { id: 'control', exposed: 1000, conversions: 100, revenue: 2500 },
      { id: 'b', exposed: 1000, conversions: 120, revenue: 3000 },
    ])
    expect(control).toMatchObject({ id: 'control', rate: 0.1, revenuePerExposed: 2.5, lift: null })
    expect(b).toMatchObject({ id: 'b', rate: 0.12, revenuePerExposed: 3 })
    expect(b.lift).toBeCloseTo(0.2, 12)
    expect(b.interval!.low).toBeLessThan(0.12)
    expect(b.interval!.high).toBeGreaterThan(0.12)
    expect(control.probabilityBest + b.probabilityBest).toBeCloseTo(1, 12)
    expect(b.probabilityBest).toBeCloseTo(0.9232, 4)
  })
  it('leaves out what cannot be known yet', () => {
    const [control, b, c] = abReport([
      { id: 'control', exposed: 500, conversions: 0 },
      { id: 'b', exposed: 500, conversions: 5 },
      { id: 'c', exposed: 0, conversions: 0, revenue: 0 },
    ])
    expect(control).toMatchObject({ rate: 0, revenuePerExposed: null, lift: null })
    expect(b.lift).toBeNull()
    expect(c).toMatchObject({ rate: null, interval: null, revenuePerExposed: null, lift: null })
  })
})

/**
 * P(rate_B > rate_A) for Beta(1 + conversions, 1 + failures) posteriors, by the closed-form sum
 * Σ_{i<α_B} B(α_A + i, β_A + β_B) / ((β_B + i) B(1 + i, β_B) B(α_A, β_A)).
 */
function exactBBeatsA(a: { exposed: number; conversions: number }, b: { exposed: number; conversions: number }): number {
  const [alphaA, betaA] = [1 + a.conversions, 1 + a.exposed - a.conversions]
  const [alphaB, betaB] = [1 + b.conversions, 1 + b.exposed - b.conversions]
  let sum = 0
  for (let i = 0; i < alphaB; i++) {
    sum += Math.exp(logBeta(alphaA + i, betaA + betaB) - Math.log(betaB + i) - logBeta(1 + i, betaB) - logBeta(alphaA, betaA))
  }
  return sum
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b)
}

// Lanczos' approximation (g = 7, nine terms), for x ≥ 1.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]
function logGamma(x: number): number {
  const y = x - 1
  const t = y + 7.5
  let series = LANCZOS[0]
  for (let i = 1; i < LANCZOS.length; i++) series += LANCZOS[i] / (y + i)
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(series)
}
