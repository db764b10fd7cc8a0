/**
 * The statistics of an A/B/X test's report, from each variant's exposed contacts and conversions.
 *
 * - Conversion rate with a 95 % **Wilson score interval** (Wilson, 1927). Unlike the normal ("Wald")
 *   interval it stays inside [0, 1] and keeps its coverage at small counts and at rates near 0 or 1.
 * - Each variant's true rate has a **Beta-Binomial posterior with a uniform prior**:
 *   Beta(1 + conversions, 1 + exposed − conversions), the variants independent of one another.
 * - **Probability to be best by numerical integration**: P(best_i) = ∫ f_i(x) Π_{j≠i} F_j(x) dx, with
 *   f the posterior densities and F their distribution functions, by the trapezoid rule on a fixed grid.
 *   The answer is the same on every load, where a Monte Carlo draw would make a report flicker.
 *
 * Pure and dependency-free: counts in, numbers out.
 */

export interface VariantCounts {
  id: string
  /** Contacts assigned to the variant and shown its branch. */
  exposed: number
  /** Of the exposed contacts, those who converted. */
  conversions: number
  /** Revenue from the variant's exposed contacts, when the test tracks revenue. */
  revenue?: number
}

export interface Interval {
  low: number
  high: number
}

export interface ConversionRate {
  rate: number
  interval: Interval
}

export interface VariantReport {
  id: string
  exposed: number
  conversions: number
  /** conversions / exposed; null before anyone is exposed. */
  rate: number | null
  /** The rate's 95 % Wilson score interval; null before anyone is exposed. */
  interval: Interval | null
  /** The probability this variant has the highest true conversion rate; the report's values sum to 1. */
  probabilityBest: number
  /** Revenue per exposed contact; null when the test tracks no revenue or nobody is exposed. */
  revenuePerExposed: number | null
  /** Relative change of the rate against the control (the first variant): 0.1 is 10 % better. Null for the
   *  control itself, and when either rate is unknown or the control's rate is 0. */
  lift: number | null
}

/** The normal distribution's 97.5th percentile: z for a two-sided 95 % interval. */
export const Z_95 = 1.959964

/** Grid points laid across each posterior's window; the grid is their union. */
const POINTS_PER_VARIANT = 2_000
/** A window spans the posterior's mean ± this many standard deviations (within [0, 1]). Even the most
 *  skewed posterior, Beta(1, n), leaves under 1e-9 of its mass outside. */
const WINDOW_SDS = 20

/**
 * The Wilson score interval of a proportion; null when n is 0.
 *
 * @example
 * wilson(10, 100) // { low: 0.0552…, high: 0.1744… }
 */
export function wilson(successes: number, n: number, z = Z_95): Interval | null {
  checkCounts(successes, n)
  if (n === 0) return null
  const p = successes / n
  const z2 = z * z
  const scale = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / scale
  const half = (z / scale) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  // At 0/n and n/n the bound on that side is exactly 0 or 1, which rounding would miss by an ulp.
  return { low: successes === 0 ? 0 : centre - half, high: successes === n ? 1 : centre + half }
}

/**
 * A variant's conversion rate and its Wilson interval; null before anyone is exposed.
 *
 * @example
 * conversionRate({ exposed: 100, conversions: 10 }) // { rate: 0.1, interval: { low: 0.0552…, high: 0.1744… } }
 */
export function conversionRate(counts: Pick<VariantCounts, 'exposed' | 'conversions'>, z = Z_95): ConversionRate | null {
  const interval = wilson(counts.conversions, counts.exposed, z)
  return interval && { rate: counts.conversions / counts.exposed, interval }
}

/**
 * For each variant, in order, the probability that its true conversion rate is the highest, under
 * independent Beta(1 + conversions, 1 + exposed − conversions) posteriors. The values sum to 1.
 *
 * @example
 * probabilityBest([{ exposed: 1000, conversions: 100 }, { exposed: 1000, conversions: 200 }]) // [≈0, ≈1]
 */
export function probabilityBest(variants: readonly Pick<VariantCounts, 'exposed' | 'conversions'>[]): number[] {
  for (const v of variants) checkCounts(v.conversions, v.exposed)
  if (variants.length <= 1) return variants.map(() => 1)
  const posteriors = variants.map((v) => ({ alpha: 1 + v.conversions, beta: 1 + v.exposed - v.conversions }))
  const xs = grid(posteriors)
  const densities = posteriors.map((p) => density(p, xs))
  const cdfs = densities.map((f) => cumulative(f, xs))

  const raw = densities.map((f, i) => {
    const integrand = new Float64Array(xs.length)
    for (let k = 0; k < xs.length; k++) {
      let others = 1
      for (let j = 0; j < cdfs.length; j++) if (j !== i) others *= cdfs[j][k]
      integrand[k] = f[k] * others
    }
    return trapezoid(integrand, xs)
  })
  // The exact values sum to 1 (the integrands add up to the derivative of Π F_j); dividing by the sum
  // removes the quadrature's small shortfall or excess.
  const total = raw.reduce((a, b) => a + b, 0)
  return raw.map((p) => p / total)
}

/**
 * A test's report: each variant's rate and interval, probability to be best, revenue per exposed contact,
 * and lift against the control, which is the first variant.
 *
 * @example
 * abReport([{ id: 'control', exposed: 1000, conversions: 100 }, { id: 'b', exposed: 1000, conversions: 120 }])
 * // [{ id: 'control', rate: 0.1, lift: null, … }, { id: 'b', rate: 0.12, lift: 0.2, probabilityBest: 0.92…, … }]
 */
export function abReport(variants: readonly VariantCounts[]): VariantReport[] {
  const best = probabilityBest(variants)
  const control = variants.length > 0 ? conversionRate(variants[0]) : null
  return variants.map((v, i) => {
    const rate = conversionRate(v)
    return {
      id: v.id,
      exposed: v.exposed,
      conversions: v.conversions,
      rate: rate?.rate ?? null,
      interval: rate?.interval ?? null,
      probabilityBest: best[i],
      revenuePerExposed: v.revenue !== undefined && v.exposed > 0 ? v.revenue / v.exposed : null,
      lift: i > 0 && rate && control && control.rate > 0 ? rate.rate / control.rate - 1 : null,
    }
  })
}

interface Posterior {
  alpha: number
  beta: number
}

function checkCounts(successes: number, n: number): void {
  if (!(Number.isFinite(n) && n >= 0 && Number.isFinite(successes) && successes >= 0 && successes <= n)) {
    throw new RangeError(`conversions must be between 0 and exposed, got ${successes} of ${n}`)
  }
}

/**
 * The sorted union of an evenly spaced grid across each posterior's window, so every posterior, however
 * narrow (a million exposures at 10 % leave a standard deviation of 0.0003), is resolved by
 * POINTS_PER_VARIANT points.
 */
function grid(posteriors: readonly Posterior[]): Float64Array {
  const points = new Float64Array(posteriors.length * (POINTS_PER_VARIANT + 1))
  let n = 0
  for (const { alpha, beta } of posteriors) {
    const sum = alpha + beta
    const mean = alpha / sum
    const sd = Math.sqrt((alpha * beta) / (sum * sum * (sum + 1)))
    const low = Math.max(0, mean - WINDOW_SDS * sd)
    const high = Math.min(1, mean + WINDOW_SDS * sd)
    for (let k = 0; k <= POINTS_PER_VARIANT; k++) points[n++] = low + ((high - low) * k) / POINTS_PER_VARIANT
  }
  points.sort()
  return points.filter((x, k) => k === 0 || x !== points[k - 1])
}

/**
 * A Beta density at each grid point, scaled to integrate to 1 on the grid. It is computed in log space,
 * (α − 1) ln x + (β − 1) ln(1 − x) less its maximum, so counts in the millions neither overflow nor
 * underflow, and the scaling stands in for the Beta function.
 */
function density({ alpha, beta }: Posterior, xs: Float64Array): Float64Array {
  const logs = new Float64Array(xs.length)
  let max = -Infinity
  for (let k = 0; k < xs.length; k++) {
    // 0 · ln 0 is 0 here: Beta(1, β) is finite at x = 0.
    const left = alpha === 1 ? 0 : (alpha - 1) * Math.log(xs[k])
    const right = beta === 1 ? 0 : (beta - 1) * Math.log1p(-xs[k])
    logs[k] = left + right
    if (logs[k] > max) max = logs[k]
  }
  const f = logs.map((l) => Math.exp(l - max))
  const area = trapezoid(f, xs)
  return f.map((y) => y / area)
}

/** The running trapezoid integral of f, from 0 at the grid's first point. */
function cumulative(f: Float64Array, xs: Float64Array): Float64Array {
  const out = new Float64Array(xs.length)
  for (let k = 1; k < xs.length; k++) out[k] = out[k - 1] + ((f[k - 1] + f[k]) / 2) * (xs[k] - xs[k - 1])
  return out
}

function trapezoid(f: Float64Array, xs: Float64Array): number {
  let sum = 0
  for (let k = 1; k < xs.length; k++) sum += ((f[k - 1] + f[k]) / 2) * (xs[k] - xs[k - 1])
  return sum
}
