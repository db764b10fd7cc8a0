/**
 * The graph segment clauses draw between segments: which dynamic segment reads which other segment.
 * Pure functions over segment lists; saving refuses cycles, so the graph is always a DAG.
 */
import { type Condition, segmentRefs } from '../conditions/types'

export interface SegmentNode {
  id: string
  type: 'static' | 'dynamic'
  conditions: Condition | null
}

function refsOf(s: SegmentNode): Set<string> {
  return s.type === 'dynamic' && s.conditions ? segmentRefs(s.conditions) : new Set()
}

/**
 * Dynamic segments ordered so that every segment comes after the segments its conditions read, which
 * is the order their memberships must be computed in.
 */
export function dynamicOrder<S extends SegmentNode>(segments: readonly S[]): S[] {
  const byId = new Map(segments.map((s) => [s.id, s]))
  const done = new Set<string>()
  const out: S[] = []
  const visit = (s: S, path: Set<string>) => {
    if (done.has(s.id) || path.has(s.id)) return
    path.add(s.id)
    for (const ref of refsOf(s)) {
      const r = byId.get(ref)
      if (r) visit(r, path)
    }
    path.delete(s.id)
    done.add(s.id)
    if (s.type === 'dynamic') out.push(s)
  }
  for (const s of segments) visit(s, new Set())
  return out
}

/** The dynamic segments that read `id`, directly or through others, in computing order. */
export function dependentsOf<S extends SegmentNode>(segments: readonly S[], id: string): S[] {
  const affected = new Set<string>([id])
  let grew = true
  while (grew) {
    grew = false
    for (const s of segments) {
      if (affected.has(s.id)) continue
      if ([...refsOf(s)].some((r) => affected.has(r))) {
        affected.add(s.id)
        grew = true
      }
    }
  }
  return dynamicOrder(segments).filter((s) => s.id !== id && affected.has(s.id))
}

/**
 * The chain of segment ids by which `candidate` (with its new conditions) would come back to itself,
 * or undefined when saving it leaves the graph free of cycles.
 */
export function findCycle(segments: readonly SegmentNode[], candidate: SegmentNode): string[] | undefined {
  const byId = new Map(segments.map((s) => [s.id, s]))
  byId.set(candidate.id, candidate)
  const seen = new Set<string>()
  const walk = (id: string, path: string[]): string[] | undefined => {
    const s = byId.get(id)
    if (!s) return undefined
    for (const ref of refsOf(s)) {
      if (ref === candidate.id) return [...path, ref]
      if (seen.has(ref)) continue
      seen.add(ref)
      const found = walk(ref, [...path, ref])
      if (found) return found
    }
    return undefined
  }
  return walk(candidate.id, [candidate.id])
}
