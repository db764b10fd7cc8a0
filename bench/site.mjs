/**
 * The synthetic site the benchmarks use: N dynamic segments over fields, activities and other segments,
 * and W workflows that start on page visits and branch on segment membership. Deterministic, so every
 * run measures the same work.
 */

const CATEGORIES = ['rock', 'jazz', 'pop', 'soul', 'folk', 'metal', 'blues', 'indie', 'latin', 'house']

/** Dynamic segments, each with the conditions of one of four kinds, in an order that lets later ones read earlier ones. */
export function segments(n) {
  const out = []
  for (let i = 0; i < n; i++) {
    const kind = i % 4
    const cat = CATEGORIES[i % CATEGORIES.length]
    let conditions
    if (kind === 0) conditions = { all: [{ field: 'birthDate', op: 'between', value: [`${1950 + (i % 45)}-01-01`, `${1960 + (i % 45)}-12-31`] }] }
    else if (kind === 1) conditions = { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: `/${cat}` }, count: { op: 'gte', value: 2 + (i % 3) }, within: '30d' }] }
    else if (kind === 2) conditions = { any: [{ field: 'country', op: 'in', value: ['ES', 'FR', 'PT'] }, { activity: 'purchase', sum: { op: 'gte', value: 50 + i } }] }
    else conditions = { all: [{ field: 'newsletter', op: 'eq', value: 'subscribed' }, ...(i >= 4 ? [{ segment: `seg_b${i - 3}`, op: 'in' }] : [])] }
    out.push({ id: `seg_b${i}`, name: `Bench segment ${i}`, type: 'dynamic', conditions })
  }
  return out
}

export const CONTENT = [
  { id: 'bench-a', name: 'Bench A', format: 'popup', title: 'Offer A', body: '<p>A</p>', display: { on: 'immediately' } },
  { id: 'bench-b', name: 'Bench B', format: 'slide-in', title: 'Offer B', body: '<p>B</p>', display: { on: 'immediately' } },
]

/**
 * Workflows on page visits: is the contact in segment k? then one content or the other, once a day. Every
 * other one first puts the contact in an A/B test of the same two paths, and every third runs on a weekly
 * schedule (every day, so that it always runs, but read in the site's time zone on every request).
 */
export function workflows(w, nSegments) {
  return Array.from({ length: w }, (_, i) => ({
    id: `wf_b${i}`,
    name: `Bench workflow ${i}`,
    status: 'active',
    start: {
      trigger: { type: 'page_visit', url: { op: 'contains', value: `/${CATEGORIES[i % CATEGORIES.length]}` } },
      limitation: null,
      ...(i % 3 === 0 ? { schedule: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] } } : {}),
    },
    entry: i % 2 === 1 ? 'test' : 'check',
    nodes: {
      ...(i % 2 === 1 ? { test: { type: 'abTest', variants: [{ id: 'x', weight: 1, next: 'check' }, { id: 'y', weight: 1, next: 'b' }] } } : {}),
      check: { type: 'isInSegment', segment: `seg_b${(i * 7) % nSegments}`, yes: 'a', no: 'b', limitation: { cooldown: '1d' } },
      a: { type: 'showContent', content: 'bench-a' },
      b: { type: 'showContent', content: 'bench-b' },
    },
  }))
}

export const pageUrl = (i) => `https://bench.example/${CATEGORIES[i % CATEGORIES.length]}/item-${i}`
