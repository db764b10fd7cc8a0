import { describe, expect, it } from 'vitest'
import { assignVariant, stickyPoint } from './assign'
import { type Variant } from './types'

const ab: Variant[] = [
  { id: 'a', weight: 1, next: 'na' },
  { id: 'b', weight: 1, next: 'nb' },
]

describe('the branch a contact takes', () => {
  it('is the same every time for a contact at a node, and may differ at another node', () => {
    const point = stickyPoint('wf_x', 'test', 'c_42')
    expect(stickyPoint('wf_x', 'test', 'c_42')).toBe(point)
    expect(assignVariant(ab, point).id).toBe(assignVariant(ab, stickyPoint('wf_x', 'test', 'c_42')).id)
    const elsewhere = Array.from({ length: 200 }, (_, i) => assignVariant(ab, stickyPoint('wf_x', 'test', `c_${i}`)).id === assignVariant(ab, stickyPoint('wf_y', 'test', `c_${i}`)).id)
    expect(elsewhere.filter(Boolean).length).toBeGreaterThan(60)
    expect(elsewhere.filter(Boolean).length).toBeLessThan(140)
  })

  it('splits 10,000 contacts 50/50 within a few percent, and 1:3 by weight', () => {
    const count = (variants: Variant[]) => {
      const n: Record<string, number> = {}
      for (let i = 0; i < 10_000; i++) {
        const v = assignVariant(variants, stickyPoint('wf_split', 'n1', `c_${i.toString(36)}_${(i * 7919) % 10007}`)).id
        n[v] = (n[v] ?? 0) + 1
      }
      return n
    }
    const even = count(ab)
    expect(Math.abs(even.a - 5000)).toBeLessThan(250)
    const weighted = count([{ id: 'a', weight: 1 }, { id: 'b', weight: 3 }])
    expect(Math.abs(weighted.a - 2500)).toBeLessThan(250)
    const five = count(['v1', 'v2', 'v3', 'v4', 'v5'].map((id) => ({ id, weight: 20 })))
    for (const id of ['v1', 'v2', 'v3', 'v4', 'v5']) expect(Math.abs(five[id] - 2000), id).toBeLessThan(200)
  })

  it('sends everyone to the winner once one is picked', () => {
    for (let i = 0; i < 50; i++) expect(assignVariant(ab, stickyPoint('wf_x', 'test', `c_${i}`), 'b').id).toBe('b')
  })
})
