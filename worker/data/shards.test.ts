import { describe, expect, it } from 'vitest'
import { shardIndex } from './shards'

describe('which shard holds a contact', () => {
  const spread = (ids: string[], shards: number) => {
    const counts = Array.from({ length: shards }, () => 0)
    for (const id of ids) counts[shardIndex(id, shards)]++
    return counts
  }

  it('is the same every time for an id, and always the one shard of a site on one', () => {
    expect(shardIndex('c_17eejjc0fr57sln6', 4)).toBe(shardIndex('c_17eejjc0fr57sln6', 4))
    expect(spread(['a', 'b', 'c'], 1)).toEqual([3])
  })

  it('spreads ids made in step, as an import makes them, as evenly as random ones', () => {
    for (const step of [1, 11, 333, 1024]) {
      const ids = Array.from({ length: 4000 }, (_, i) => `c${i * step}`)
      for (const shards of [2, 4]) {
        for (const n of spread(ids, shards)) expect(Math.abs(n - 4000 / shards), `step ${step} over ${shards}`).toBeLessThan(4000 / shards * 0.08)
      }
    }
  })
})
