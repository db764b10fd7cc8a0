/**
 * The state token's check time and when it makes a token fresh: under TOKEN_FRESH_MS since the state was
 * last checked against KV, and never by being dated ahead of the clock.
 */
import { describe, expect, it } from 'vitest'
import { toBase64Url } from '../lib/base64url'
import { seal } from '../lib/seal'
import { type Snapshot } from './snapshot'
import { TOKEN_FRESH_MS, isFresh, openState, sealState } from './token'

const SECRET = 'state-secret-0123456789abcdef0123'
const NOW = Date.UTC(2026, 10, 29, 12)
const snap = (v: number, id = 'c_1'): Snapshot => ({ v, id, f: { createdAt: v }, m: {}, a: {}, x: [], k: {} })

describe('the check time', () => {
  it('travels sealed with the snapshot, small or deflated', async () => {
    const big: Snapshot = { ...snap(NOW), f: { createdAt: NOW, note: 'x'.repeat(3000) } }
    for (const s of [snap(NOW), big]) {
      const token = await sealState(SECRET, 'site', s, NOW - 12_000)
      expect(await openState(SECRET, 'site', 'c_1', token, NOW)).toEqual({ snapshot: s, checkedAt: NOW - 12_000 })
    }
  })

  it('is unknown in a token sealed before tokens carried one, which still opens and is never fresh', async () => {
    const json = new TextEncoder().encode(JSON.stringify(snap(NOW)))
    const plain = new Uint8Array([0, ...json])
    const token = `1.${toBase64Url(await seal('segue-state-token', SECRET, plain, new TextEncoder().encode('site\u0000c_1')))}`
    const opened = await openState(SECRET, 'site', 'c_1', token, NOW)
    expect(opened).toEqual({ snapshot: snap(NOW), checkedAt: undefined })
    expect(isFresh(opened!, NOW)).toBe(false)
  })
})

describe('a fresh token', () => {
  const at = (checkedAt: number | undefined, v = NOW) => isFresh({ snapshot: snap(v), checkedAt }, NOW)

  it('is one whose state was checked against KV under TOKEN_FRESH_MS ago, however new the state', () => {
    expect(at(NOW)).toBe(true)
    expect(at(NOW - TOKEN_FRESH_MS + 1)).toBe(true)
    expect(at(NOW - TOKEN_FRESH_MS)).toBe(false)
    expect(at(NOW - TOKEN_FRESH_MS - 60_000, NOW)).toBe(false)
  })

  it('is not stretched by a check time or a state dated ahead of this clock by more than a little', () => {
    expect(at(NOW + 1_000, NOW + 1_000)).toBe(true)
    expect(at(NOW + 60_000, NOW + 60_000)).toBe(false)
    expect(at(NOW, NOW + 60_000)).toBe(false)
  })
})
