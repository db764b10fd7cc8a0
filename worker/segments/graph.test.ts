/**
 * The graph between segments: the order dynamic segments are computed in, everything that reads a segment,
 * and the cycle a change would close.
 */
import { describe, expect, it } from 'vitest'
import { type SegmentNode, dependentsOf, dynamicOrder, findCycle } from './graph'

const dyn = (id: string, ...refs: string[]): SegmentNode => ({ id, type: 'dynamic', conditions: { all: refs.map((segment) => ({ segment, op: 'in' as const })) } })
const stat = (id: string): SegmentNode => ({ id, type: 'static', conditions: null })

describe('segment graph', () => {
  const graph = [dyn('d', 'c'), dyn('c', 'b', 's'), dyn('b'), stat('s'), dyn('e', 'b')]

  it('orders dynamic segments after the segments they read', () => {
    const order = dynamicOrder(graph).map((s) => s.id)
    expect(order.indexOf('b')).toBeLessThan(order.indexOf('c'))
    expect(order.indexOf('c')).toBeLessThan(order.indexOf('d'))
    expect(order).not.toContain('s')
  })

  it('finds everything that reads a segment, directly or not', () => {
    expect(dependentsOf(graph, 'b').map((s) => s.id).sort()).toEqual(['c', 'd', 'e'])
    expect(dependentsOf(graph, 'd')).toEqual([])
  })

  it('finds the circle a change would close', () => {
    expect(findCycle(graph, dyn('b', 'd'))).toEqual(['b', 'd', 'c', 'b'])
    expect(findCycle(graph, dyn('b', 'e'))).toEqual(['b', 'e', 'b'])
    expect(findCycle(graph, dyn('b', 's'))).toBeUndefined()
  })
})
