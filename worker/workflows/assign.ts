/**
 * Which branch of an A/B/X test or a split a contact takes: a hash of the node and the contact id, laid
 * over the branches' weights. The same contact always takes the same branch of a node — on every visit,
 * and on every device once it is identified (its devices then share one contact id) — and contacts spread
 * over the branches in proportion to their weights. A test with a winner sends everyone to the winner.
 */
import { hashId } from '../data/shards'
import { type Variant } from './types'

/** A number in [0, 1) that stands for this contact at this node, the same every time. */
export function stickyPoint(workflow: string, node: string, contactId: string): number {
  return hashId(`${workflow}/${node}\u0000${contactId}`) / 2 ** 32
}

/** The branch a contact takes, by weight; `winner` (a test's, once picked) overrides. */
export function assignVariant(variants: readonly Variant[], point: number, winner?: string): Variant {
  if (winner !== undefined) {
    const won = variants.find((v) => v.id === winner)
    if (won) return won
  }
  const total = variants.reduce((n, v) => n + v.weight, 0)
  let at = point * total
  for (const v of variants) {
    if (at < v.weight) return v
    at -= v.weight
  }
  return variants[variants.length - 1]
}
